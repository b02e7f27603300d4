-- PostgreSQL form of ../0020_web_workplace.sql: the same schema in PostgreSQL's dialect.
-- 0020: the staff workplace on the web (bot/web). One-time sign-in links and server-side
-- sessions hold only a SHA-256 of their token, so a copy of the database cannot sign anyone in.
CREATE TABLE web_links (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- `binding`: the person's role, area and bound chat accounts when the session began; a session
-- whose person's binding no longer matches (rebound, unbound, gone from the config) is ended.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    binding TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX web_sessions_person ON web_sessions (person_id);

-- Where a ticket_events row came from, when not from chat: 'web' for the workplace. A side
-- table, since ticket_events is append-only and its writers are the chat flows' own.
CREATE TABLE ticket_event_origins (
    event_id BIGINT PRIMARY KEY REFERENCES ticket_events (id),
    origin TEXT NOT NULL
);
