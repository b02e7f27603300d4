-- PostgreSQL form of ../0019_signups_and_group_codes.sql: the same schema in PostgreSQL's dialect.
-- Sign-ups keep the name and phone the resident gave for this activity (so erasing the row
-- erases them), and a waiting list: status 'waiting', in the order people joined (joined_at).
ALTER TABLE signups ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE signups ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE signups ADD COLUMN joined_at TEXT;
UPDATE signups SET joined_at = created_at;
CREATE INDEX signups_queue ON signups (announcement_id, status, joined_at);

-- One-time codes an admin asks for in any chat (WeChat, the console) and someone posts in a
-- Telegram group with /bindgroup CODE: the group is bound to the code's community or grid.
CREATE TABLE group_bind_codes (
    code TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    grid_id TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_in TEXT
);
