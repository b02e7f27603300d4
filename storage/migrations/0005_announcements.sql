-- Announcements to neighbourhood groups, their runs, the groups themselves, and sign-ups.

CREATE TABLE group_targets (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    community_id TEXT,
    grid_id TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    disabled_reason TEXT NOT NULL DEFAULT '',
    bound_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (channel, chat_id)
);

CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL DEFAULT '',
    cron TEXT NOT NULL DEFAULT '',
    next_run_at TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_by TEXT NOT NULL,
    source TEXT NOT NULL,
    config_key TEXT UNIQUE,
    capacity INTEGER,
    starts_at TEXT,
    signup_closes_at TEXT,
    remind_at TEXT,
    reminded_at TEXT,
    organiser TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX announcements_due ON announcements (status, next_run_at);
CREATE INDEX announcements_remind ON announcements (reminded_at, remind_at);

CREATE TABLE announcement_runs (
    id INTEGER PRIMARY KEY,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id),
    scheduled_for TEXT NOT NULL,
    ran_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    targets INTEGER NOT NULL DEFAULT 0,
    UNIQUE (announcement_id, scheduled_for)
);

CREATE TABLE signups (
    announcement_id INTEGER NOT NULL REFERENCES announcements (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (announcement_id, resident_id)
);

ALTER TABLE outbox ADD COLUMN run_id INTEGER REFERENCES announcement_runs (id);
CREATE INDEX outbox_run ON outbox (run_id) WHERE run_id IS NOT NULL;
