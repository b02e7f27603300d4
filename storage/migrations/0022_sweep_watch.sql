-- 0022: the deadline sweep reads only the tickets it has to look at now.
-- Before, each tick read every watched ticket due within its category's horizon and ran
-- several correlated subqueries per ticket: at 1,000,000 tickets ~5,700 tickets that needed
-- nothing (already warned, or not yet at 80 % of a window stretched over a night) cost ~45 ms
-- a tick, and how many depended on the hour.
-- watch_at is the next moment the sweep must look at the ticket: '' (sorts before every stamp)
-- for "now", set whenever the ticket's state or due times are written; the sweep then sets it
-- to the warning time or the due time (handlers/escalation.py), or NULL once the miss at the top
-- level is noted. It only ever makes the sweep look earlier than needed, never later.
ALTER TABLE tickets ADD COLUMN watch_at TEXT;

UPDATE tickets SET watch_at = ''
WHERE status IN ('new', 'routed', 'reopened', 'acknowledged')
  AND settled_due IS NOT CASE WHEN status = 'acknowledged' THEN resolve_due_at ELSE ack_due_at END;

-- A new ticket is looked at by the next tick; a closed one never.
CREATE TRIGGER tickets_watch_new AFTER INSERT ON tickets
WHEN NEW.status IN ('new', 'routed', 'reopened', 'acknowledged')
BEGIN
    UPDATE tickets SET watch_at = '' WHERE id = NEW.id;
END;

-- A new window, 受理, a reopened ticket: look again at the next tick; closed: no more.
CREATE TRIGGER tickets_watch_again AFTER UPDATE OF status, ack_due_at, resolve_due_at ON tickets
BEGIN
    UPDATE tickets
    SET watch_at = CASE WHEN NEW.status IN ('new', 'routed', 'reopened', 'acknowledged') THEN '' END
    WHERE id = NEW.id;
END;

-- Only the tickets the sweep will look at again: a few thousand at 1,000,000 tickets.
CREATE INDEX tickets_watch ON tickets (watch_at) WHERE watch_at IS NOT NULL;
