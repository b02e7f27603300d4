-- PostgreSQL form of ../0008_scale_indexes.sql: the same schema in PostgreSQL's dialect.
-- 0008: the 三率 at scale. Read from ticket_events directly, a year of the subdistrict (half a
-- million tickets) took ~10 s: per ticket, its created event's JSON, a GROUP BY over its other
-- events and date arithmetic. ticket_rate_facts keeps, per ticket, exactly the facts the rates
-- are computed from, so storage/stats.py reads one row per ticket through
-- ticket_rate_facts_created. ticket_events is append-only (rows are never deleted, ids only
-- grow, only a note may change), so the facts are folded in incrementally: before each query,
-- stats.refresh_facts folds in the events after channel_state 'stats:facts_through' (the last
-- event id folded), in the same transaction. Here: the table and every event so far.
--
-- Each column is what storage/stats.py defines over the ticket's events:
--   created_at, ack_due, resolve_due: the earliest `created` event's at and its recorded
--     data.ack_due_at / data.resolve_due_at (earliest of each);
--   ack_id: the first `acknowledged` event; ack_at: the first `acknowledged` or `resolved`;
--   resolved_at: the first `resolved`; cancel_id: the first `cancelled` by the resident;
--   rated_id, rating: the latest `rated` event and its data.rating.
CREATE TABLE ticket_rate_facts (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    created_at TEXT,
    ack_due TEXT,
    resolve_due TEXT,
    ack_id BIGINT,
    ack_at TEXT,
    resolved_at TEXT,
    cancel_id BIGINT,
    rated_id BIGINT,
    rating TEXT
);

-- The same fold as storage/stats.py FOLD_FACTS, from the first event.
INSERT INTO ticket_rate_facts (ticket_id, created_at, ack_due, resolve_due, ack_id, ack_at, resolved_at,
                               cancel_id, rated_id)
SELECT ticket_id,
    MIN(CASE WHEN action = 'created' THEN at END),
    MIN(CASE WHEN action = 'created' THEN (data::json ->> 'ack_due_at') END),
    MIN(CASE WHEN action = 'created' THEN (data::json ->> 'resolve_due_at') END),
    MIN(CASE WHEN action = 'acknowledged' THEN id END),
    MIN(CASE WHEN action IN ('acknowledged', 'resolved') THEN at END),
    MIN(CASE WHEN action = 'resolved' THEN at END),
    MIN(CASE WHEN action = 'cancelled' AND actor_kind = 'resident' THEN id END),
    MAX(CASE WHEN action = 'rated' THEN id END)
FROM ticket_events
WHERE action IN ('created', 'acknowledged', 'resolved', 'cancelled', 'rated')
GROUP BY ticket_id;

UPDATE ticket_rate_facts
SET rating = (SELECT (e.data::json ->> 'rating') FROM ticket_events AS e WHERE e.id = rated_id)
WHERE rated_id IS NOT NULL;

INSERT INTO channel_state (key, value)
VALUES ('stats:facts_through', (SELECT COALESCE(MAX(id), 0)::text FROM ticket_events))
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

CREATE INDEX ticket_rate_facts_created ON ticket_rate_facts (created_at);

-- The deadline sweep (storage/deadlines.py) reads, for every open ticket due by its horizon, the
-- latest window start and whether a warning / a miss was noted since. Through ticket_events_ticket
-- that walked the ticket's whole history row by row (41 + 58 ms a tick at 1,000,000 tickets);
-- these small partial indexes (only those rare events) answer each in one seek (14 + 26 ms).
-- The queries name the actions as literals so that these partial indexes apply.
CREATE INDEX ticket_events_window_starts ON ticket_events (ticket_id)
    WHERE action IN ('escalated', 'reassigned', 'reopened');
CREATE INDEX ticket_events_warned ON ticket_events (ticket_id) WHERE action = 'warned';
CREATE INDEX ticket_events_overdue ON ticket_events (ticket_id) WHERE action = 'overdue';
