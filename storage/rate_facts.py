"""ticket_rate_facts (migrations 0008, 0024): per ticket, exactly the facts the 三率 are
computed from, folded in from the append-only audit log before each query, so a year of the
whole subdistrict reads one row per ticket (storage/stats.py says what each rate means).

Columns, over the ticket's events:
  created_at, ack_due, resolve_due: the earliest `created` event's at and its recorded
    data.ack_due_at / data.resolve_due_at;
  ack_id: the first `acknowledged`; ack_at: the first `acknowledged` or `resolved`;
  resolved_at: the first `resolved`; resolved_last, resolved_last_id: the latest `resolved`;
  reopened_id: the latest `reopened` (by 不满意: a 办结 before it no longer stands; ids order
    the two, as a reopening and the next 办结 may share a timestamp);
  cancel_id, cancel_at: the first `cancelled` by the resident;
  rated_id, rating: the latest `rated` event and its data.rating.
"""

from __future__ import annotations

from storage.engine import Connection

FACTS_MARK = "stats:facts_through"  # channel_state: the last ticket_events id folded into the facts
_MERGE = ", ".join(f"{c} = COALESCE({f}({c}, excluded.{c}), {c}, excluded.{c})" for c, f in (
    ("created_at", "min"), ("ack_due", "min"), ("resolve_due", "min"), ("ack_id", "min"), ("ack_at", "min"),
    ("resolved_at", "min"), ("resolved_last", "max"), ("resolved_last_id", "max"), ("reopened_id", "max"), ("cancel_id", "min"),
    ("cancel_at", "min"), ("rated_id", "max")))
_NEW_EVENTS = (f"e.id > COALESCE((SELECT CAST(value AS INTEGER) FROM channel_state WHERE key = '{FACTS_MARK}'), 0)")
_RESIDENT_CANCEL = "e.action = 'cancelled' AND e.actor_kind = 'resident'"
# The fold over the events after the mark, read by id range: `+e.action` keeps the planner off
# ticket_events_action_at and `+e.ticket_id` off a sort-free walk of ticket_events_ticket (both
# would visit every such event ever logged). The first statement writes, so another process
# (the CLI) takes the write lock before it reads anything.
FOLD_FACTS = (
    f"""INSERT INTO ticket_rate_facts (ticket_id, created_at, ack_due, resolve_due, ack_id, ack_at,
    resolved_at, resolved_last, resolved_last_id, reopened_id, cancel_id, cancel_at, rated_id)
SELECT e.ticket_id,
    MIN(CASE WHEN e.action = 'created' THEN e.at END),
    MIN(CASE WHEN e.action = 'created' THEN json_extract(e.data, '$.ack_due_at') END),
    MIN(CASE WHEN e.action = 'created' THEN json_extract(e.data, '$.resolve_due_at') END),
    MIN(CASE WHEN e.action = 'acknowledged' THEN e.id END),
    MIN(CASE WHEN e.action IN ('acknowledged', 'resolved') THEN e.at END),
    MIN(CASE WHEN e.action = 'resolved' THEN e.at END),
    MAX(CASE WHEN e.action = 'resolved' THEN e.at END),
    MAX(CASE WHEN e.action = 'resolved' THEN e.id END),
    MAX(CASE WHEN e.action = 'reopened' THEN e.id END),
    MIN(CASE WHEN {_RESIDENT_CANCEL} THEN e.id END),
    MIN(CASE WHEN {_RESIDENT_CANCEL} THEN e.at END),
    MAX(CASE WHEN e.action = 'rated' THEN e.id END)
FROM ticket_events AS e
WHERE {_NEW_EVENTS} AND +e.action IN ('created', 'acknowledged', 'resolved', 'reopened', 'cancelled', 'rated')
GROUP BY +e.ticket_id
ON CONFLICT (ticket_id) DO UPDATE SET {_MERGE}""",
    f"""UPDATE ticket_rate_facts
SET rating = (SELECT json_extract(r.data, '$.rating') FROM ticket_events AS r WHERE r.id = rated_id)
WHERE ticket_id IN (SELECT e.ticket_id FROM ticket_events AS e WHERE {_NEW_EVENTS} AND +e.action = 'rated')""",
    f"""INSERT INTO channel_state (key, value)
VALUES ('{FACTS_MARK}', (SELECT COALESCE(MAX(id), 0) FROM ticket_events))
ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
)


async def refresh_facts(conn: Connection) -> None:
    """Fold the events appended since the last call into ticket_rate_facts (cheap when few)."""
    for statement in FOLD_FACTS:
        await conn.execute(statement)
