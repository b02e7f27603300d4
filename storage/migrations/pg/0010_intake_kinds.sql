-- PostgreSQL form of ../0010_intake_kinds.sql: the same schema in PostgreSQL's dialect.
-- 0010: the inbox tells an update the bot did not use ('skipped', its kind in `error`) from one
-- it handled ('done'); parked ones stay 'failed'. Erasure and retention reach all three, so a
-- skipped edit or a parked message keeps nothing personal longer than a handled one.
DROP INDEX inbox_retention;
CREATE INDEX inbox_retention ON inbox (processed_at)
    WHERE payload != '' AND status IN ('done', 'skipped', 'failed');

-- Groups the bot was added to or removed from (Telegram's my_chat_member), whoever did it.
CREATE TABLE chat_memberships (
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,  -- 'member' | 'left'
    changed_by TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
