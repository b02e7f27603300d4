-- PostgreSQL form of ../0004_escalation.sql: the same schema in PostgreSQL's dialect.
-- 0004: the deadline sweep (预警提醒 / 吹哨) reads acknowledged tickets by resolve_due_at.
-- (Unacknowledged tickets are read by ack_due_at through tickets_status_due of 0006.)
CREATE INDEX IF NOT EXISTS tickets_resolve_due ON tickets (status, resolve_due_at);
