-- PostgreSQL form of ../0022_sweep_watch.sql: the same column, triggers (as PL/pgSQL functions)
-- and partial index. watch_at is the next moment the sweep must look at the ticket: '' for "now",
-- set whenever the ticket's state or due times are written; NULL once closed.
ALTER TABLE tickets ADD COLUMN watch_at TEXT;

UPDATE tickets SET watch_at = ''
WHERE status IN ('new', 'routed', 'reopened', 'acknowledged')
  AND settled_due IS DISTINCT FROM CASE WHEN status = 'acknowledged' THEN resolve_due_at ELSE ack_due_at END;

-- A new ticket is looked at by the next tick; a closed one never.
CREATE FUNCTION tickets_watch_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets SET watch_at = '' WHERE id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tickets_watch_new AFTER INSERT ON tickets
    FOR EACH ROW WHEN (NEW.status IN ('new', 'routed', 'reopened', 'acknowledged'))
    EXECUTE FUNCTION tickets_watch_new();

-- A new window, 受理, a reopened ticket: look again at the next tick; closed: no more.
CREATE FUNCTION tickets_watch_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets
    SET watch_at = CASE WHEN NEW.status IN ('new', 'routed', 'reopened', 'acknowledged') THEN '' END
    WHERE id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tickets_watch_again AFTER UPDATE OF status, ack_due_at, resolve_due_at ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_watch_again();

-- Only the tickets the sweep will look at again.
CREATE INDEX tickets_watch ON tickets (watch_at) WHERE watch_at IS NOT NULL;
