-- PostgreSQL form of ../0009_sweep_settled.sql: the same schema in PostgreSQL's dialect.
-- 0009: the deadline sweep skips tickets whose miss at the top level is already noted.
-- Such a ticket stays open (nobody acted on it), due in the past, and was re-read every tick:
-- at 1,000,000 tickets a few thousand of them cost ~15 ms a sweep. settled_due holds the due
-- time whose miss was noted; a new window (escalation, 转派, 不满意) sets new due times, so the
-- ticket is watched again. The partial indexes hold only the tickets still watched.
ALTER TABLE tickets ADD COLUMN settled_due TEXT;

UPDATE tickets
SET settled_due = CASE WHEN status = 'acknowledged' THEN resolve_due_at ELSE ack_due_at END
WHERE status IN ('new', 'routed', 'reopened', 'acknowledged')
  AND EXISTS (
    SELECT 1 FROM ticket_events AS o
    WHERE o.ticket_id = tickets.id AND o.action = 'overdue'
      AND (o.data::json ->> 'deadline')
          = CASE WHEN tickets.status = 'acknowledged' THEN 'resolve' ELSE 'ack' END
      AND o.id > COALESCE((SELECT MAX(e.id) FROM ticket_events AS e WHERE e.ticket_id = tickets.id
                           AND e.action IN ('escalated', 'reassigned', 'reopened')), 0));

CREATE INDEX tickets_ack_watch ON tickets (ack_due_at)
    WHERE status IN ('new', 'routed', 'reopened') AND settled_due IS DISTINCT FROM ack_due_at;
CREATE INDEX tickets_resolve_watch ON tickets (resolve_due_at)
    WHERE status IN ('acknowledged') AND settled_due IS DISTINCT FROM resolve_due_at;
