"""The hot `ORDER BY id … LIMIT` queries on PostgreSQL read their index in order and stop at the
limit. sqlglot writes SQLite's NULL order out (`ORDER BY id NULLS FIRST`), which no ascending
index gives: PostgreSQL then read every pending row and sorted them (a backlog of 50,000 inbox
rows took ~100 ms a batch). An id is never NULL, so storage/pg_sql.py leaves its order bare."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage import inbox
from storage.pg_sql import translate
from tests.pg_cluster import Cluster

# storage.inbox.pending, as written there (checked below, so the two cannot drift apart).
PENDING = ("SELECT id, channel, platform_id, payload, attempts FROM inbox"
           " WHERE status = 'pending' AND channel = ? ORDER BY id LIMIT ?")
LAST_ACK = ("SELECT l.id FROM ticket_events AS l WHERE l.ticket_id = ?"
            " AND l.action = 'acknowledged' AND l.actor_kind = 'person' ORDER BY l.id DESC LIMIT 1")


@pytest.fixture
async def backlog(pg_cluster: Cluster) -> AsyncIterator[asyncpg.Connection]:
    """A migrated database whose inbox holds 20,000 pending updates behind 20,000 handled ones,
    and 40,000 events of 2,000 tickets."""
    name, url = await pg_cluster.clone()
    conn = await asyncpg.connect(url)
    await conn.execute("""
        INSERT INTO inbox (channel, platform_id, payload, status, received_at)
        SELECT 'telegram', g::text, '{}', CASE WHEN g > 20000 THEN 'pending' ELSE 'done' END, '2026-11-30'
        FROM generate_series(1, 40000) AS g;
        INSERT INTO residents (created_at) SELECT '2026-11-30' FROM generate_series(1, 10);
        INSERT INTO tickets (resident_id, category_id, description, community_id, compound, building,
                             grid_id, status, source_channel, created_at, updated_at, ack_due_at, resolve_due_at)
        SELECT 1, 'repair', 'x', 'longchi', '龙池花园', '3栋', 'G01', 'routed', 'telegram',
               '2026-11-30', '2026-11-30', '2026-12-01', '2026-12-02'
        FROM generate_series(1, 2000);
        INSERT INTO ticket_events (ticket_id, actor_kind, actor_id, action, at)
        SELECT 1 + g % 2000, 'person', 'p', CASE WHEN g % 7 = 0 THEN 'acknowledged' ELSE 'notified' END,
               '2026-11-30'
        FROM generate_series(1, 40000) AS g;
        ANALYZE;
    """)
    yield conn
    await conn.close()
    await pg_cluster.drop(name)


async def plan(conn: asyncpg.Connection, sql: str, *params: object) -> str:
    rows = await conn.fetch(f"EXPLAIN (COSTS OFF) {translate(sql)}", *params)
    return "\n".join(row[0] for row in rows)


async def test_pending_inbox_rows_are_read_in_index_order(backlog: asyncpg.Connection) -> None:
    assert " ".join(PENDING.split()) in " ".join(inspect.getsource(inbox.pending).replace('"', " ").split())
    shown = await plan(backlog, PENDING, "telegram", 50)
    assert "Index Scan using inbox_pending" in shown and "Sort" not in shown, shown


async def test_the_latest_event_of_a_ticket_is_read_backwards_from_the_index(backlog: asyncpg.Connection) -> None:
    shown = await plan(backlog, LAST_ACK, 5)
    assert "Index Scan Backward" in shown and "Sort" not in shown, shown
