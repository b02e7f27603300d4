-- 0031: the 三率 counts kept per month, place and judgement (issue 16): see the SQLite form
-- (storage/migrations/0031_rate_counts.sql) for why.
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
CREATE FUNCTION ticket_rate_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.month IS NOT NULL THEN
        UPDATE ticket_rate_counts SET n = n - 1
        WHERE month = OLD.month AND grid_id = OLD.grid_id AND community_id = OLD.community_id AND flags = OLD.flags;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.month IS NOT NULL THEN
        INSERT INTO ticket_rate_counts (month, grid_id, community_id, flags, n)
        VALUES (NEW.month, NEW.grid_id, NEW.community_id, NEW.flags, 1)
        ON CONFLICT (month, grid_id, community_id, flags) DO UPDATE SET n = ticket_rate_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_rate_counts_added AFTER INSERT ON ticket_rate_marks
    FOR EACH ROW EXECUTE FUNCTION ticket_rate_counts_keep();

CREATE TRIGGER ticket_rate_counts_changed AFTER UPDATE OF month, grid_id, community_id, flags ON ticket_rate_marks
    FOR EACH ROW WHEN (OLD.month IS DISTINCT FROM NEW.month OR OLD.grid_id IS DISTINCT FROM NEW.grid_id
                       OR OLD.community_id IS DISTINCT FROM NEW.community_id OR OLD.flags IS DISTINCT FROM NEW.flags)
    EXECUTE FUNCTION ticket_rate_counts_keep();

CREATE TRIGGER ticket_rate_counts_removed AFTER DELETE ON ticket_rate_marks
    FOR EACH ROW EXECUTE FUNCTION ticket_rate_counts_keep();
