-- 0001: the core ticket loop.
-- Timestamps are ISO-8601 UTC text (sortable); ids are integers unless they come from config.

CREATE TABLE residents (
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    phone_shared INTEGER NOT NULL DEFAULT 0,
    community_id TEXT,
    compound TEXT,
    building TEXT,
    grid_id TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    grid_id TEXT,
    community_id TEXT,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX people_grid ON people (grid_id, role);
CREATE INDEX people_community ON people (community_id, role);

-- One row per chat account; person_id is set once a staff member has bound the account.
CREATE TABLE accounts (
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    person_id TEXT REFERENCES people (id),
    from_config INTEGER NOT NULL DEFAULT 0,
    last_seen_at TEXT,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX accounts_person ON accounts (person_id);
CREATE INDEX accounts_resident ON accounts (resident_id);

CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by TEXT
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    category_id TEXT NOT NULL,
    description TEXT NOT NULL,
    community_id TEXT NOT NULL,
    compound TEXT NOT NULL,
    building TEXT NOT NULL,
    grid_id TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    latitude REAL,
    longitude REAL,
    status TEXT NOT NULL,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    rating TEXT,
    result_note TEXT NOT NULL DEFAULT '',
    source_channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ack_due_at TEXT NOT NULL,
    resolve_due_at TEXT NOT NULL
);
CREATE INDEX tickets_resident ON tickets (resident_id, id);
CREATE INDEX tickets_building_open ON tickets (compound, building, category_id, status);
CREATE INDEX tickets_grid_status ON tickets (grid_id, status);

CREATE TABLE ticket_photos (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    channel TEXT NOT NULL,
    ref TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX ticket_photos_ticket ON ticket_photos (ticket_id);

-- Residents who pressed 我也遇到 on an existing ticket: they are told of its progress too.
CREATE TABLE ticket_followers (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, resident_id)
);

-- The audit log: append-only, enforced below.
CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
CREATE INDEX ticket_events_action_at ON ticket_events (action, at);

CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;

CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;

CREATE TABLE dialogs (
    channel TEXT NOT NULL,
    user_id TEXT NOT NULL,
    flow TEXT NOT NULL,
    step TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);

CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    processed_at TEXT,
    UNIQUE (channel, platform_id)
);
CREATE INDEX inbox_pending ON inbox (status, id);

CREATE TABLE channel_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'reply',
    ticket_id INTEGER,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    platform_message_id TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (channel, status, next_attempt_at);
CREATE INDEX outbox_chat ON outbox (channel, chat_id, status, id);
