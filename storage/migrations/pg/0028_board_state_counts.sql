-- PostgreSQL form of ../0028_board_state_counts.sql: the same table, filled the same way, kept
-- by triggers (as PL/pgSQL functions). The board's counts per state read it instead of every ticket.
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

CREATE FUNCTION ticket_state_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE ticket_state_counts SET n = n - 1
        WHERE grid_id = OLD.grid_id AND community_id = OLD.community_id
          AND category_id = OLD.category_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ticket_state_counts (grid_id, community_id, category_id, status, n)
        VALUES (NEW.grid_id, NEW.community_id, NEW.category_id, NEW.status, 1)
        ON CONFLICT (grid_id, community_id, category_id, status)
        DO UPDATE SET n = ticket_state_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_state_counts_insert AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_state_counts_add();

CREATE TRIGGER ticket_state_counts_update AFTER UPDATE OF status, grid_id, community_id, category_id ON tickets
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.grid_id IS DISTINCT FROM NEW.grid_id
                       OR OLD.community_id IS DISTINCT FROM NEW.community_id
                       OR OLD.category_id IS DISTINCT FROM NEW.category_id)
    EXECUTE FUNCTION ticket_state_counts_add();

CREATE TRIGGER ticket_state_counts_delete AFTER DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_state_counts_add();
