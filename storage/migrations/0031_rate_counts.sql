-- 0031: the 三率 counts kept per month, place and judgement (issue 16). A read of whole months
-- counted a year's ticket_rate_marks row by row (~165 ms of the dashboard's second at 1,000,000
-- tickets); ticket_rate_counts holds those counts, kept by the triggers below on every change of a
-- row's month, grid, community or judgement, so such a read adds up a few hundred rows. A period
-- that cuts a month (a week, a custom range) still counts the marks, bounded by created_us; the
-- rows still waiting for a deadline are still compared with now from the marks.
CREATE TABLE ticket_rate_counts (
    month INTEGER NOT NULL,
    grid_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    flags INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (month, grid_id, community_id, flags)
);

INSERT INTO ticket_rate_counts (month, grid_id, community_id, flags, n)
SELECT month, grid_id, community_id, flags, COUNT(*) FROM ticket_rate_marks WHERE month IS NOT NULL
GROUP BY month, grid_id, community_id, flags;

-- A row without a month (the fold's new rows until fill_months) is counted once it has one.
CREATE TRIGGER ticket_rate_counts_added AFTER INSERT ON ticket_rate_marks WHEN NEW.month IS NOT NULL
BEGIN
    INSERT INTO ticket_rate_counts (month, grid_id, community_id, flags, n)
    VALUES (NEW.month, NEW.grid_id, NEW.community_id, NEW.flags, 1)
    ON CONFLICT (month, grid_id, community_id, flags) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_rate_counts_changed AFTER UPDATE OF month, grid_id, community_id, flags ON ticket_rate_marks
WHEN OLD.month IS NOT NEW.month OR OLD.grid_id IS NOT NEW.grid_id OR OLD.community_id IS NOT NEW.community_id
  OR OLD.flags IS NOT NEW.flags
BEGIN
    UPDATE ticket_rate_counts SET n = n - 1
    WHERE month = OLD.month AND grid_id = OLD.grid_id AND community_id = OLD.community_id AND flags = OLD.flags;
    INSERT INTO ticket_rate_counts (month, grid_id, community_id, flags, n)
    SELECT NEW.month, NEW.grid_id, NEW.community_id, NEW.flags, 1 WHERE NEW.month IS NOT NULL
    ON CONFLICT (month, grid_id, community_id, flags) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_rate_counts_removed AFTER DELETE ON ticket_rate_marks WHEN OLD.month IS NOT NULL
BEGIN
    UPDATE ticket_rate_counts SET n = n - 1
    WHERE month = OLD.month AND grid_id = OLD.grid_id AND community_id = OLD.community_id AND flags = OLD.flags;
END;
