"""Both engines' migrations end in the same schema: tables, columns (types normalised), defaults,
primary and unique keys, foreign keys, and named indexes (columns, uniqueness, partial or not).

Every migration has two files: storage/migrations/NNNN_name.sql (SQLite) and
storage/migrations/pg/NNNN_name.sql (PostgreSQL). A migration merged without its PostgreSQL form
fails test_every_migration_has_a_postgresql_form by name; one whose two forms differ fails
test_both_engines_end_in_the_same_schema with the differing table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

import pytest

from storage.clock import FakeClock
from storage.db import Database, bundled_migrations
from storage.engine import Engine
from tests.pg_cluster import Cluster

# Types as both engines spell them, to one word each.
TYPES = {"integer": "integer", "bigint": "integer", "text": "text", "real": "real", "double precision": "real",
         "blob": "bytes", "bytea": "bytes"}


@dataclass(frozen=True)
class Table:
    columns: tuple[tuple[str, str, bool, str | None], ...]  # name, type, not null, default
    primary_key: tuple[str, ...]
    unique: frozenset[tuple[str, ...]]
    foreign: frozenset[tuple[str, str, str]]  # column, table, column
    indexes: frozenset[tuple[str, tuple[str, ...], bool, bool]]  # name, columns, unique, partial


def _default(value: str | None) -> str | None:
    """'0', "''", "'{}'" as SQLite keeps them; PostgreSQL adds a cast ('{}'::text)."""
    return None if value is None else re.sub(r"::[a-z ]+$", "", value)


async def _sqlite_schema(db: Database) -> dict[str, Table]:
    schema: dict[str, Table] = {}
    async with db.read() as conn:
        names = [r[0] for r in await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in names:
            info = list(await conn.execute_fetchall(f"PRAGMA table_info({table})"))
            columns = tuple((r["name"], TYPES[r["type"].lower()], bool(r["notnull"]) or r["pk"] > 0,
                             None if r["pk"] else _default(r["dflt_value"])) for r in info)
            primary = tuple(r["name"] for r in sorted(info, key=lambda r: r["pk"]) if r["pk"])
            unique: set[tuple[str, ...]] = set()
            indexes = set()
            for index in await conn.execute_fetchall(f"PRAGMA index_list({table})"):
                cols = tuple(r["name"] for r in await conn.execute_fetchall(f"PRAGMA index_info({index['name']})"))
                if index["origin"] == "u":
                    unique.add(cols)
                elif index["origin"] == "c":
                    indexes.add((index["name"], cols, bool(index["unique"]), bool(index["partial"])))
            foreign = frozenset((r["from"], r["table"], r["to"]) for r in await conn.execute_fetchall(
                f"PRAGMA foreign_key_list({table})"))
            schema[table] = Table(columns, primary, frozenset(unique), foreign, frozenset(indexes))
    return schema


PG_COLUMNS = """
SELECT column_name, data_type, is_nullable = 'NO', column_default, is_identity = 'YES'
FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position
"""
PG_KEYS = """
SELECT c.contype::text AS contype, c.conname, array_agg(a.attname ORDER BY k.n) AS cols,
       min(rt.relname) AS ref_table, array_agg(ra.attname ORDER BY k.n) AS ref_cols
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
CROSS JOIN LATERAL unnest(c.conkey, coalesce(c.confkey, c.conkey)) WITH ORDINALITY AS k(col, ref, n)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
LEFT JOIN pg_class rt ON rt.oid = c.confrelid
LEFT JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.ref
WHERE t.relname = $1 AND c.contype IN ('p', 'u', 'f')
GROUP BY c.contype, c.conname
"""
PG_INDEXES = """
SELECT i.relname AS name, array_agg(a.attname ORDER BY k.n) AS cols, x.indisunique AS is_unique,
       x.indpred IS NOT NULL AS partial
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(col, n)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.col
WHERE t.relname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
GROUP BY i.relname, x.indisunique, x.indpred IS NOT NULL
"""


async def _postgresql_schema(db: Database) -> dict[str, Table]:
    schema: dict[str, Table] = {}
    async with db.read() as conn:
        raw = conn.raw  # the catalogue queries are PostgreSQL's own: sent as they are
        names = [r[0] for r in await raw.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_name != 'schema_version'")]
        for table in names:
            columns = tuple((r[0], TYPES[r[1]], r[2], None if r[4] else _default(r[3]))
                            for r in await raw.fetch(PG_COLUMNS, table))
            keys = await raw.fetch(PG_KEYS, table)
            primary = next((tuple(k["cols"]) for k in keys if k["contype"] == "p"), ())
            unique = frozenset(tuple(k["cols"]) for k in keys if k["contype"] == "u")
            foreign = frozenset((k["cols"][0], k["ref_table"], k["ref_cols"][0]) for k in keys if k["contype"] == "f")
            indexes = frozenset((r["name"], tuple(r["cols"]), r["is_unique"], r["partial"])
                                for r in await raw.fetch(PG_INDEXES, table))
            schema[table] = Table(columns, primary, unique, foreign, indexes)
    return schema


def test_every_migration_has_a_postgresql_form() -> None:
    folder = resources.files("storage") / "migrations"
    sqlite = {entry.name for entry in folder.iterdir() if entry.name.endswith(".sql")}
    postgresql = {entry.name for entry in (folder / "pg").iterdir() if entry.name.endswith(".sql")}
    assert sorted(sqlite - postgresql) == [], "write storage/migrations/pg/<same name> for each"
    assert sorted(postgresql - sqlite) == []
    assert [n for n, _ in bundled_migrations(Engine.SQLITE)] == [n for n, _ in bundled_migrations(Engine.POSTGRESQL)]


async def test_both_engines_end_in_the_same_schema(pg_cluster: Cluster, tmp_path: Path) -> None:
    """Every migration from an empty database, on each engine; then the schemas compared."""
    url = await pg_cluster.create("schema_compare")
    sqlite = await Database.open(tmp_path / "schema.db", FakeClock())
    postgresql = await Database.open(url, FakeClock())
    try:
        assert await sqlite.schema_version() == await postgresql.schema_version()
        ours, theirs = await _sqlite_schema(sqlite), await _postgresql_schema(postgresql)
    finally:
        await sqlite.close()
        await postgresql.close()
        await pg_cluster.drop("schema_compare")
    assert sorted(ours) == sorted(theirs)
    for table in sorted(ours):
        for field in fields(Table):
            name = field.name
            assert (table, name, getattr(ours[table], name)) == (table, name, getattr(theirs[table], name))


@pytest.mark.parametrize("table", ["tickets", "outbox", "signups"])
async def test_the_comparison_sees_a_difference(pg_cluster: Cluster, tmp_path: Path, table: str) -> None:
    """The check can fail: one column more on PostgreSQL is a difference it reports."""
    url = await pg_cluster.create(f"schema_differs_{table}")
    postgresql = await Database.open(url, FakeClock())
    sqlite = await Database.open(tmp_path / "schema.db", FakeClock())
    try:
        async with postgresql.transaction() as conn:
            await conn.execute(f"ALTER TABLE {table} ADD COLUMN stray TEXT")
        ours, theirs = await _sqlite_schema(sqlite), await _postgresql_schema(postgresql)
    finally:
        await sqlite.close()
        await postgresql.close()
        await pg_cluster.drop(f"schema_differs_{table}")
    assert ours[table] != theirs[table]
    assert [c[0] for c in theirs[table].columns if c[0] not in {c[0] for c in ours[table].columns}] == ["stray"]
