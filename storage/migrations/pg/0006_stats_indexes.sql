-- PostgreSQL form of ../0006_stats_indexes.sql: the same schema in PostgreSQL's dialect.
-- 0006: 三率 and the weekly digest.
-- The rates themselves read ticket_events through ticket_events_action_at (created in the
-- period) and ticket_events_ticket (each ticket's later events). Listing the currently overdue
-- open tickets of the whole subdistrict filters tickets by status and deadlines: index that.
CREATE INDEX tickets_status_due ON tickets (status, ack_due_at, resolve_due_at);
