-- 0030: the 三率 dashboard from stored judgements (issue 16). ticket_rate_facts (0008, 0024)
-- keeps per ticket the facts the rates are computed from, but every read still judged each row
-- (text deadlines, CASEs, the ticket joined for its grid and category): ~30 s for the dashboard
-- of a year of the subdistrict at 1,000,000 tickets. ticket_rate_marks keeps the judgement
-- itself, one narrow row per ticket, as storage/stats.py defines it (storage/rate_facts.py
-- MARKS_SELECT, folded in with the facts before each read):
--   month: the creation's month in Asia/Shanghai (202610), every index's first column (reads
--     also bound created_us, the creation in microseconds, when a period cuts a month, so
--     another zone stays exact);
--   grid_id, community_id, category_id: the ticket's current ones (kept by the trigger below);
--   flags: the judgement, one bit each (rate_facts.Flag: counted, withdrawn, acknowledged, in
--     time, 办结 now, in time, rated, satisfied; legacy: a deadline not recorded at creation, such
--     a ticket is judged by storage/stats.py at read time, by the category's hours then);
--   ack_wait_us, resolve_wait_us: a counted ticket not yet acknowledged / 办结: its deadline in
--     microseconds since the epoch (it enters the rate once now is past it), else NULL: the only
--     values a read compares with now;
--   response_us, resolution_us: a counted ticket's first response / current 办结 less its creation
--     as the deadlines count time (microseconds; clock time from the fold, office hours written
--     by the dashboard for working-time categories: work_due 1 while to be written), else NULL.
-- ticket_unsatisfied lists every 不满意 rating event: its ticket's month, its at, and whether its
-- reason (the event's note) is blank (NULL: to be judged by the next fold, as after erasure).
CREATE TABLE ticket_rate_marks (
    ticket_id INTEGER PRIMARY KEY,
    month INTEGER,
    created_at TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    grid_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    flags INTEGER NOT NULL,
    ack_wait_us INTEGER,
    resolve_wait_us INTEGER,
    response_us INTEGER,
    resolution_us INTEGER,
    work_due INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE ticket_unsatisfied (
    event_id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL,
    month INTEGER,
    at TEXT NOT NULL,
    blank INTEGER
);

-- The fold's judgement over every ticket folded so far; the month by the engine's calendar here
-- (Asia/Shanghai: UTC+8 since 1991), by rate_facts.fill_months later.
INSERT INTO ticket_rate_marks (ticket_id, created_at, created_us, grid_id, community_id, category_id, flags, ack_wait_us, resolve_wait_us, response_us, resolution_us, month, work_due)
SELECT judged.*, CAST(strftime('%Y%m', judged.created_at, '+8 hours') AS INTEGER), 0 FROM (
SELECT ticket_id, created_at, (CAST(strftime('%s', created_at) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER)), grid_id, community_id, category_id,
    counted * 1 + withdrawn * 2 + counted * acked * 4
    + counted * acked_in_time * 8 + counted * done * 16
    + counted * done * last_in_time * 32 + counted * rated * 64
    + counted * satisfied * 128 + legacy * 256,
    CASE WHEN counted = 1 AND acked = 0 THEN (CAST(strftime('%s', ack_due) AS INTEGER) * 1000000 + CAST(substr(ack_due, 21, 6) AS INTEGER)) END,
    CASE WHEN counted = 1 AND done = 0 THEN (CAST(strftime('%s', resolve_due) AS INTEGER) * 1000000 + CAST(substr(resolve_due, 21, 6) AS INTEGER)) END,
    CASE WHEN counted = 1 AND acked = 1 THEN CASE WHEN ack_at < created_at THEN 0 ELSE (CAST(strftime('%s', ack_at) AS INTEGER) * 1000000 + CAST(substr(ack_at, 21, 6) AS INTEGER)) - (CAST(strftime('%s', created_at) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER)) END END,
    CASE WHEN counted = 1 AND done = 1 THEN CASE WHEN resolved_last < created_at THEN 0 ELSE (CAST(strftime('%s', resolved_last) AS INTEGER) * 1000000 + CAST(substr(resolved_last, 21, 6) AS INTEGER)) - (CAST(strftime('%s', created_at) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER)) END END
FROM (
    SELECT j.*, (1 - legacy) * (1 - withdrawn) AS counted
    FROM (
        SELECT i.*, (1 - legacy) * (1 - done) * cancelled_in_window AS withdrawn
        FROM (
            SELECT f.ticket_id, f.created_at, f.ack_due, f.resolve_due, f.ack_at, f.resolved_last,
                t.grid_id, t.community_id, t.category_id,
                CASE WHEN f.ack_due IS NULL OR f.resolve_due IS NULL THEN 1 ELSE 0 END AS legacy,
                CASE WHEN f.ack_at IS NOT NULL THEN 1 ELSE 0 END AS acked,
                CASE WHEN f.ack_at <= f.ack_due THEN 1 ELSE 0 END AS acked_in_time,
                -- 办结 now: resolved, and not reopened (by 不满意) since.
                CASE WHEN f.resolved_last IS NOT NULL
                      AND (f.reopened_id IS NULL OR f.resolved_last_id > f.reopened_id) THEN 1 ELSE 0 END AS done,
                CASE WHEN f.resolved_last <= f.resolve_due THEN 1 ELSE 0 END AS last_in_time,
                CASE WHEN f.cancel_at <= f.resolve_due THEN 1 ELSE 0 END AS cancelled_in_window,
                CASE WHEN f.rating IS NOT NULL THEN 1 ELSE 0 END AS rated,
                CASE WHEN f.rating IN ('satisfied', 'mostly_satisfied') THEN 1 ELSE 0 END AS satisfied
            FROM ticket_rate_facts AS f JOIN tickets AS t ON t.id = f.ticket_id
            WHERE f.created_at IS NOT NULL
        ) AS i
    ) AS j
) AS k
) AS judged;

INSERT INTO ticket_unsatisfied (event_id, ticket_id, month, at)
SELECT id, ticket_id, (SELECT m.month FROM ticket_rate_marks AS m WHERE m.ticket_id = ticket_events.ticket_id), at
FROM ticket_events
WHERE action = 'rated' AND json_extract(data, '$.rating') = 'unsatisfied'
  AND id <= COALESCE((SELECT CAST(value AS INTEGER) FROM channel_state WHERE key = 'stats:facts_through'), 0);

-- The counts: a month's rows in grid order (grouped without a sort), by their judgement.
CREATE INDEX ticket_rate_marks_month ON ticket_rate_marks (month, grid_id, flags, community_id, created_us);
-- The few rows still waiting for a deadline: the only ones compared with now.
CREATE INDEX ticket_rate_marks_waiting ON ticket_rate_marks (month, grid_id, community_id, created_us, ack_wait_us,
    resolve_wait_us) WHERE ack_wait_us IS NOT NULL OR resolve_wait_us IS NOT NULL;
-- The durations, each month's in ascending order (the percentiles merge sorted runs).
CREATE INDEX ticket_rate_marks_response ON ticket_rate_marks (month, response_us, community_id, grid_id, created_us)
    WHERE response_us IS NOT NULL;
CREATE INDEX ticket_rate_marks_resolution ON ticket_rate_marks (month, resolution_us, community_id, grid_id,
    created_us) WHERE resolution_us IS NOT NULL;
-- Rows the fold changed whose office-hours durations the dashboard has not written yet.
CREATE INDEX ticket_rate_marks_work_due ON ticket_rate_marks (ticket_id) WHERE work_due = 1;
-- The 不满意 of a period: counted, the blank ones summed, the newest listed, from the index alone.
CREATE INDEX ticket_unsatisfied_month ON ticket_unsatisfied (month, at, event_id, blank, ticket_id);
CREATE INDEX ticket_unsatisfied_unjudged ON ticket_unsatisfied (event_id) WHERE month IS NULL OR blank IS NULL;
-- The dashboard writes the office-hours durations of the working-time categories it finds in
-- config when none were written yet (their rows, not every row: work_due 0 here).
DELETE FROM channel_state WHERE key = 'stats:work_spans_for';
-- Tickets whose deadlines were not recorded: few, judged by storage/stats.py at read time.
CREATE INDEX ticket_rate_facts_legacy ON ticket_rate_facts (created_at) WHERE ack_due IS NULL OR resolve_due IS NULL;

-- A ticket moved to another grid (or category) counts where it is now, as stats.py reads it;
-- a new category may count office hours.
CREATE TRIGGER ticket_rate_marks_place AFTER UPDATE OF grid_id, community_id, category_id ON tickets
WHEN OLD.grid_id IS NOT NEW.grid_id OR OLD.community_id IS NOT NEW.community_id
  OR OLD.category_id IS NOT NEW.category_id
BEGIN
    UPDATE ticket_rate_marks
    SET grid_id = NEW.grid_id, community_id = NEW.community_id, category_id = NEW.category_id,
        work_due = CASE WHEN OLD.category_id IS NOT NEW.category_id THEN 1 ELSE work_due END
    WHERE ticket_id = NEW.id;
END;

-- A reason blanked (erasure, retention) is judged again by the next fold.
CREATE TRIGGER ticket_unsatisfied_note AFTER UPDATE OF note ON ticket_events
WHEN OLD.note IS NOT NEW.note
BEGIN
    UPDATE ticket_unsatisfied SET blank = NULL WHERE event_id = NEW.id;
END;
