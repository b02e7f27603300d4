-- 0025: every export from the staff workplace (issue 15): who, when, what (the ticket list or the
-- 三率 table), the format, the filter it was made with (JSON; search words with their phone and
-- ID numbers masked) and how many rows it held. Read by the admins' list on /staff/exports.
CREATE TABLE exports (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    filter TEXT NOT NULL DEFAULT '{}',
    row_count INTEGER NOT NULL
);
CREATE INDEX exports_at ON exports (at);
