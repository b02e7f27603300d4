-- 0013: invite guessing and erasure that reaches every copy.

-- Each refused invite code, by account and time (never the code itself): an account is capped
-- after a few failures an hour, across restarts, and a spike from many accounts tells the
-- admins. Rows older than the hour are deleted as new ones come.
CREATE TABLE invite_failures (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX invite_failures_account ON invite_failures (channel, external_id, at);
CREATE INDEX invite_failures_at ON invite_failures (at);

-- Rows that held an erased resident's data but could not be blanked at erasure: an outbox row a
-- sender held (claimed, sending) or one still to be delivered to someone else, an inbox item
-- still being handled. They are blanked once they have settled (storage/erasure.py, on the
-- scheduler's tick); the table holds row ids only, nothing of the data.
CREATE TABLE erasure_followups (
    source TEXT NOT NULL CHECK (source IN ('inbox', 'outbox')),
    row_id INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (source, row_id)
);
