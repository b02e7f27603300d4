-- Sign-ups keep the name and phone the resident gave for this activity (so erasing the row
-- erases them), and a waiting list: status 'waiting', in the order people joined (joined_at).
ALTER TABLE signups ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE signups ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE signups ADD COLUMN joined_at TEXT;
UPDATE signups SET joined_at = created_at;
CREATE INDEX signups_queue ON signups (announcement_id, status, joined_at);
