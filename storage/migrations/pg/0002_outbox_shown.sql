-- PostgreSQL form of ../0002_outbox_shown.sql: the same schema in PostgreSQL's dialect.
-- 0002: a notice that could not be delivered is shown once in 我的工单; shown_at records when.
ALTER TABLE outbox ADD COLUMN shown_at TEXT;
CREATE INDEX outbox_undelivered ON outbox (channel, chat_id)
    WHERE status = 'failed' AND shown_at IS NULL;
