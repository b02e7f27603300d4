-- 0024: fair 三率 (issue 15). A ticket reopened by 不满意 is not 办结 until it is resolved
-- again, and a ticket withdrawn by the resident counts by *when* she withdrew it (before its
-- 办结 window ended, or after). ticket_rate_facts (0008) gains the facts this needs:
--   resolved_last, resolved_last_id: the latest `resolved` event's at and id (办结 again after
--     a reopening);
--   reopened_id: the latest `reopened` event's id (a 办结 before it no longer stands; ids, not
--     times, order them: a reopening and a new 办结 may share a timestamp);
--   cancel_at: the first `cancelled` by the resident's at (cancel_id is its id).
-- Filled here from every event so far; storage/rate_facts.py folds the later ones in.
ALTER TABLE ticket_rate_facts ADD COLUMN resolved_last TEXT;
ALTER TABLE ticket_rate_facts ADD COLUMN resolved_last_id INTEGER;
ALTER TABLE ticket_rate_facts ADD COLUMN reopened_id INTEGER;
ALTER TABLE ticket_rate_facts ADD COLUMN cancel_at TEXT;

UPDATE ticket_rate_facts
SET resolved_last = (SELECT MAX(e.at) FROM ticket_events AS e
                     WHERE e.ticket_id = ticket_rate_facts.ticket_id AND e.action = 'resolved'),
    resolved_last_id = (SELECT MAX(e.id) FROM ticket_events AS e
                        WHERE e.ticket_id = ticket_rate_facts.ticket_id AND e.action = 'resolved'),
    reopened_id = (SELECT MAX(e.id) FROM ticket_events AS e
                   WHERE e.ticket_id = ticket_rate_facts.ticket_id AND e.action = 'reopened'),
    cancel_at = (SELECT e.at FROM ticket_events AS e WHERE e.id = ticket_rate_facts.cancel_id);
