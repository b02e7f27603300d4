-- PostgreSQL form of ../0029_leases_and_claims.sql: the same schema (the same SQL).
-- 0029: several instances on one database (PostgreSQL). A lease is a named row one instance
-- holds until expires_at (the Telegram poller, each channel's sender, the scheduler's sweep and
-- digest); it is taken or renewed with one atomic statement (storage/leases.py). An outbox row
-- claimed by a sender records by whom and until when: a row whose claim ran out (its instance
-- died) is due again for any sender, as after a crash (storage/outbox.py).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
CREATE INDEX outbox_claims ON outbox (channel, claimed_until) WHERE status IN ('claimed', 'sending');
