-- 0028: the workplace board's counts per state read a small table instead of every ticket.
-- The board shows, under its filters, how many tickets are in each state — closed ones too —
-- and refreshes every 10 s: at 1,000,000 tickets counting them took ~1 s per refresh for a
-- subdistrict admin. ticket_state_counts keeps the count per (grid, community, category,
-- state), kept by triggers so no writer can forget it; a board whose filters are only scope,
-- grid, community and category sums at most a few thousand rows of it.
CREATE TABLE ticket_state_counts (
    grid_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grid_id, community_id, category_id, status)
);

INSERT INTO ticket_state_counts (grid_id, community_id, category_id, status, n)
SELECT grid_id, community_id, category_id, status, COUNT(*) FROM tickets
GROUP BY grid_id, community_id, category_id, status;

CREATE TRIGGER ticket_state_counts_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_state_counts (grid_id, community_id, category_id, status, n)
    VALUES (NEW.grid_id, NEW.community_id, NEW.category_id, NEW.status, 1)
    ON CONFLICT (grid_id, community_id, category_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_state_counts_update AFTER UPDATE OF status, grid_id, community_id, category_id ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.grid_id IS NOT NEW.grid_id
  OR OLD.community_id IS NOT NEW.community_id OR OLD.category_id IS NOT NEW.category_id
BEGIN
    UPDATE ticket_state_counts SET n = n - 1
    WHERE grid_id = OLD.grid_id AND community_id = OLD.community_id AND category_id = OLD.category_id
      AND status = OLD.status;
    INSERT INTO ticket_state_counts (grid_id, community_id, category_id, status, n)
    VALUES (NEW.grid_id, NEW.community_id, NEW.category_id, NEW.status, 1)
    ON CONFLICT (grid_id, community_id, category_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_state_counts_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_state_counts SET n = n - 1
    WHERE grid_id = OLD.grid_id AND community_id = OLD.community_id AND category_id = OLD.category_id
      AND status = OLD.status;
END;
