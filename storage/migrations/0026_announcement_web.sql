-- 0026: announcements from the staff workplace (bot/web/announcements*.py).
-- What each web action did to an announcement (created, edited, cancelled; who, when, from where):
-- announcements have no events of their own, and the workplace records every action it takes.
CREATE TABLE announcement_actions (
    id INTEGER PRIMARY KEY,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id),
    person_id TEXT NOT NULL,
    action TEXT NOT NULL,
    origin TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX announcement_actions_of ON announcement_actions (announcement_id);

-- One-time tokens of the create form (only a SHA-256 of each): a form posted twice (a double
-- click, a reload, a replayed request) makes one announcement; the second post finds its id here.
CREATE TABLE web_form_tokens (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    announcement_id INTEGER
);
