-- PostgreSQL form of ../0011_outbox_resends.sql: the same schema in PostgreSQL's dialect.
-- 0011: at least once. A send whose outcome is unknown (a crash while it was on the wire, a read
-- timeout, a connection dropped after the request) is sent again as the row's next try.
-- resends counts those tries: a resent private message carries a marker, the weekly digest
-- counts them. The partial index keeps the digest's count off a scan of every row ever sent.
ALTER TABLE outbox ADD COLUMN resends BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_resent ON outbox (created_at) WHERE resends > 0;

-- A notice the sender gave up on while its outcome was still unknown may never have arrived:
-- 我的工单 lists it like a failed one, so the partial index covers both.
DROP INDEX outbox_undelivered;
CREATE INDEX outbox_undelivered ON outbox (channel, chat_id)
    WHERE status IN ('failed', 'uncertain') AND shown_at IS NULL;
