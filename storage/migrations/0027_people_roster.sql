-- 0027: people the workplace imports (issue 15, 人员), beside those config.yaml lists.
-- `source`: 'config' for a person config.yaml lists (synced at every start: config stays the
-- source for them), 'import' for one a roster import added; the start's sync leaves those alone.
ALTER TABLE people ADD COLUMN source TEXT NOT NULL DEFAULT 'config';
-- Since when an account is bound to its person (the roster shows it); NULL for bindings made
-- before this migration.
ALTER TABLE accounts ADD COLUMN bound_at TEXT;

-- Every roster or care-tag import: who, when, what it counted. `payload` holds the checked rows
-- between the dry run and the confirmation only (blanked when written or refused).
CREATE TABLE roster_imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    person_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    problem_count INTEGER NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    payload TEXT NOT NULL DEFAULT '',
    done_at TEXT
);

-- The workplace's people actions (invite issued, binding revoked, import written), append-only.
CREATE TABLE people_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    person_id TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX people_events_person ON people_events (person_id, id);
