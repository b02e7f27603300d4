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

ticket_rate_marks (migration 0030) keeps, from those facts and the ticket's current grid,
community and category, the judgement itself (MARKS_SELECT: stats.py's definitions for a ticket
whose deadlines were recorded at creation), so the dashboard sums narrow rows instead of judging
each; ticket_unsatisfied lists the 不满意 rating events. Both are folded in the same steps.
"""

from __future__ import annotations

from enum import IntFlag
from zoneinfo import ZoneInfo

from storage.clock import parse_stamp
from storage.engine import Connection
from storage.tickets import Rating

FACTS_MARK = "stats:facts_through"  # channel_state: the last ticket_events id folded into the facts
MONTH_ZONE = ZoneInfo("Asia/Shanghai")  # ticket_rate_marks.month: the creation's month here
_MERGE = ", ".join(f"{c} = COALESCE({f}({c}, excluded.{c}), {c}, excluded.{c})" for c, f in (
    ("created_at", "min"), ("ack_due", "min"), ("resolve_due", "min"), ("ack_id", "min"), ("ack_at", "min"),
    ("resolved_at", "min"), ("resolved_last", "max"), ("resolved_last_id", "max"), ("reopened_id", "max"), ("cancel_id", "min"),
    ("cancel_at", "min"), ("rated_id", "max")))
_NEW_EVENTS = (f"e.id > COALESCE((SELECT CAST(value AS INTEGER) FROM channel_state WHERE key = '{FACTS_MARK}'), 0)")
_RESIDENT_CANCEL = "e.action = 'cancelled' AND e.actor_kind = 'resident'"


def micros_sql(column: str) -> str:
    """A stored stamp (YYYY-MM-DDTHH:MM:SS.ffffff+00:00) as integer microseconds since the epoch."""
    return (f"(CAST(strftime('%s', {column}) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER))")


def _span(end: str) -> str:
    """`end` less the creation in microseconds, never negative (as durations.elapsed)."""
    return f"CASE WHEN {end} < created_at THEN 0 ELSE {micros_sql(end)} - {micros_sql('created_at')} END"


_GOOD = ", ".join(f"'{r.value}'" for r in (Rating.SATISFIED, Rating.MOSTLY))


class Flag(IntFlag):
    """ticket_rate_marks.flags: a ticket's judgement, one bit each (stats.py's definitions)."""

    COUNTED = 1  # in the rates: not withdrawn (and not legacy)
    WITHDRAWN = 2  # cancelled by the resident before its 办结 window ended, not 办结
    ACKED = 4  # counted, responded (受理, or 办结 without 受理 first)
    ACKED_IN_TIME = 8  # counted, first response at or before the 受理 deadline
    DONE = 16  # counted, 办结 now (resolved, not reopened by 不满意 since)
    DONE_IN_TIME = 32  # counted, 办结 now and that latest 办结 at or before the 办结 deadline
    RATED = 64  # counted, rated (the latest rating decides)
    SATISFIED = 128  # counted, latest rating 满意 or 基本满意
    LEGACY = 256  # a deadline not recorded at creation: judged by stats.py at read time


MARKS_COLUMNS = ("ticket_id, created_at, created_us, grid_id, community_id, category_id, flags, ack_wait_us,"
                 " resolve_wait_us, response_us, resolution_us")
# One row of ticket_rate_marks per facts row with a creation (the tickets filtered by `{only}`),
# judged as storage/stats.py defines it: stamps in one fixed-width UTC format compare as text
# exactly as in time; a ticket without both recorded deadlines is LEGACY and left to stats.py.
MARKS_SELECT = f"""SELECT ticket_id, created_at, {micros_sql('created_at')}, grid_id, community_id, category_id,
    counted * {Flag.COUNTED} + withdrawn * {Flag.WITHDRAWN} + counted * acked * {Flag.ACKED}
    + counted * acked_in_time * {Flag.ACKED_IN_TIME} + counted * done * {Flag.DONE}
    + counted * done * last_in_time * {Flag.DONE_IN_TIME} + counted * rated * {Flag.RATED}
    + counted * satisfied * {Flag.SATISFIED} + legacy * {Flag.LEGACY},
    CASE WHEN counted = 1 AND acked = 0 THEN {micros_sql('ack_due')} END,
    CASE WHEN counted = 1 AND done = 0 THEN {micros_sql('resolve_due')} END,
    CASE WHEN counted = 1 AND acked = 1 THEN {_span('ack_at')} END,
    CASE WHEN counted = 1 AND done = 1 THEN {_span('resolved_last')} END
FROM (
    SELECT j.*, (1 - legacy) * (1 - withdrawn) AS counted
    FROM (
        SELECT i.*, (1 - legacy) * (1 - done) * cancelled_in_window AS withdrawn
        FROM (
            SELECT f.ticket_id, f.created_at, f.ack_due, f.resolve_due, f.ack_at, f.resolved_last,
                t.grid_id, t.community_id, t.category_id,
                CASE WHEN f.ack_due IS NULL OR f.resolve_due IS NULL THEN 1 ELSE 0 END AS legacy,
                CASE WHEN f.ack_at IS NOT NULL THEN 1 ELSE 0 END AS acked,
                CASE WHEN f.ack_at <= f.ack_due THEN 1 ELSE 0 END AS acked_in_time,
                -- 办结 now: resolved, and not reopened (by 不满意) since.
                CASE WHEN f.resolved_last IS NOT NULL
                      AND (f.reopened_id IS NULL OR f.resolved_last_id > f.reopened_id) THEN 1 ELSE 0 END AS done,
                CASE WHEN f.resolved_last <= f.resolve_due THEN 1 ELSE 0 END AS last_in_time,
                CASE WHEN f.cancel_at <= f.resolve_due THEN 1 ELSE 0 END AS cancelled_in_window,
                CASE WHEN f.rating IS NOT NULL THEN 1 ELSE 0 END AS rated,
                CASE WHEN f.rating IN ({_GOOD}) THEN 1 ELSE 0 END AS satisfied
            FROM ticket_rate_facts AS f JOIN tickets AS t ON t.id = f.ticket_id
            WHERE f.created_at IS NOT NULL{{only}}
        ) AS i
    ) AS j
) AS k"""
_MARKS_SET = ", ".join(f"{c} = excluded.{c}" for c in MARKS_COLUMNS.split(", ")[1:])
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
    # The judgement of each ticket the new events touched; a new row's month is written by
    # fill_months, and every changed row's durations are due for the dashboard's office hours.
    f"""INSERT INTO ticket_rate_marks ({MARKS_COLUMNS}, work_due)
SELECT *, 1 FROM ({MARKS_SELECT.replace('{only}', f''' AND f.ticket_id IN (
    SELECT e.ticket_id FROM ticket_events AS e WHERE {_NEW_EVENTS}
    AND +e.action IN ('created', 'acknowledged', 'resolved', 'reopened', 'cancelled', 'rated'))''')}) AS judged
WHERE 1 = 1
ON CONFLICT (ticket_id) DO UPDATE SET {_MARKS_SET}, work_due = 1""",
    f"""INSERT INTO ticket_unsatisfied (event_id, ticket_id, at)
SELECT e.id, e.ticket_id, e.at FROM ticket_events AS e
WHERE {_NEW_EVENTS} AND +e.action = 'rated' AND json_extract(e.data, '$.rating') = '{Rating.UNSATISFIED.value}'
ON CONFLICT (event_id) DO NOTHING""",
    f"""INSERT INTO channel_state (key, value)
VALUES ('{FACTS_MARK}', (SELECT COALESCE(MAX(id), 0) FROM ticket_events))
ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
)


def month_key(created_at: str) -> int:
    """A creation stamp's month in Asia/Shanghai as YYYYMM (202610)."""
    local = parse_stamp(created_at).astimezone(MONTH_ZONE)
    return local.year * 100 + local.month


async def fill_months(conn: Connection) -> None:
    """Write the month of the rows the fold added (month NULL: found through the month index)."""
    async with conn.execute("SELECT ticket_id, created_at FROM ticket_rate_marks WHERE month IS NULL") as cursor:
        rows = list(await cursor.fetchall())
    if rows:
        await conn.executemany("UPDATE ticket_rate_marks SET month = ? WHERE ticket_id = ?",
                               [(month_key(str(r[1])), int(r[0])) for r in rows])


# What str.strip() strips (every c with c.isspace()): a reason of only these is blank (跳过).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
              "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# The 不满意 events added since (or whose note was blanked): their ticket's month, and whether the
# reason is blank as the dashboard counts it (`not note.strip()`).
JUDGE_UNSATISFIED = """UPDATE ticket_unsatisfied
SET month = (SELECT m.month FROM ticket_rate_marks AS m WHERE m.ticket_id = ticket_unsatisfied.ticket_id),
    blank = CASE WHEN TRIM(COALESCE((SELECT e.note FROM ticket_events AS e WHERE e.id = ticket_unsatisfied.event_id),
                                    ''), ?) = '' THEN 1 ELSE 0 END
WHERE month IS NULL OR blank IS NULL"""


async def refresh_facts(conn: Connection) -> None:
    """Fold the events appended since the last call into ticket_rate_facts, ticket_rate_marks
    and ticket_unsatisfied (cheap when few)."""
    for statement in FOLD_FACTS:
        await conn.execute(statement)
    await fill_months(conn)
    await conn.execute(JUDGE_UNSATISFIED, (WHITESPACE,))


