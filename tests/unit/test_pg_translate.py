"""Repository SQL (SQLite's dialect, `?` parameters) as PostgreSQL reads it (storage/pg_sql.py)."""

from __future__ import annotations

import pytest

from storage.pg_sql import translate


@pytest.mark.parametrize(("sqlite", "postgresql"), [
    # Parameters in the order written; a ? inside a string stays text.
    ("SELECT a FROM t WHERE b = ? AND c LIKE '?%' LIMIT ?",
     "SELECT a FROM t WHERE b = $1 AND c LIKE '?%' LIMIT $2"),
    # ?NNN keeps its number; a bare ? after it is the highest so far plus one (SQLite's rule).
    ("UPDATE t SET a = ?2 WHERE b = ?1 AND c = ?", "UPDATE t SET a = $2 WHERE b = $1 AND c = $3"),
    # A comparison counted as 0/1, and a CASE that returns one.
    ("SELECT SUM(a = 1) FROM t", "SELECT SUM(CAST((a = 1) AS INT)) FROM t"),
    ("SELECT CASE WHEN a IS NULL THEN 0 WHEN b IS NOT NULL THEN a <= b ELSE 1 END FROM t",
     "SELECT CASE WHEN a IS NULL THEN 0 WHEN NOT b IS NULL THEN CAST((a <= b) AS INT) ELSE 1 END FROM t"),
    # SQLite's INTEGER is 64-bit.
    ("SELECT CAST(v AS INTEGER) FROM t", "SELECT CAST(v AS BIGINT) FROM t"),
    # A planner hint PostgreSQL does not have; a derived table needs a name there.
    ("SELECT x FROM (SELECT t.x FROM t INDEXED BY t_x WHERE 0)",
     "SELECT x FROM (SELECT t.x FROM t WHERE FALSE) AS derived_2"),
    # json_extract: typed (json) as a result column, text where it is compared.
    ("SELECT json_extract(d, '$.level') FROM t WHERE json_extract(d, '$.kind') = ?",
     "SELECT JSON_EXTRACT_PATH(CAST(d AS JSON), 'level') FROM t"
     " WHERE JSON_EXTRACT_PATH_TEXT(CAST(d AS JSON), 'kind') = $1"),
    # DO UPDATE SET: a bare column is the existing row.
    ("INSERT INTO f (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)",
     "INSERT INTO f (k, v) VALUES ($1, $2) ON CONFLICT(k) DO UPDATE SET v = GREATEST(f.v, excluded.v)"),
    # `? IS NULL` has no type of its own.
    ("UPDATE t SET s = CASE WHEN ? IS NULL THEN 'x' ELSE s END",
     "UPDATE t SET s = CASE WHEN CAST($1 AS TEXT) IS NULL THEN 'x' ELSE s END"),
    # NULLs sort first in SQLite: a column that may be NULL keeps that order explicitly, but an id
    # (every table's NOT NULL primary key) takes PostgreSQL's default, which an index scan gives.
    ("SELECT id FROM inbox WHERE status = ? ORDER BY id LIMIT ?",
     "SELECT id FROM inbox WHERE status = $1 ORDER BY id LIMIT $2"),
    ("SELECT e.id FROM ticket_events AS e WHERE e.ticket_id = ? ORDER BY e.id DESC LIMIT 1",
     "SELECT e.id FROM ticket_events AS e WHERE e.ticket_id = $1 ORDER BY e.id DESC LIMIT 1"),
    ("SELECT a FROM t ORDER BY a, b DESC", "SELECT a FROM t ORDER BY a NULLS FIRST, b DESC NULLS LAST"),
])
def test_translation(sqlite: str, postgresql: str) -> None:
    assert translate(sqlite) == postgresql
