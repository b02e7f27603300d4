"""The storage-scale fixture: a bot database with N tickets over two years and R residents.

Built by `python -m bench.storage_scale` (cached per size under the temp dir; `--rebuild`).
The schema comes from the bot's own migrations (storage.db.Database.open) and the staff from
config (storage.accounts.sync_people); the rows are bulk-inserted with synchronous=OFF and the
indexes dropped during the load and recreated from their own CREATE statements afterwards.
Events get ids in time order across tickets, as a live bot would write them.
"""

from __future__ import annotations

import heapq
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.storage_lifecycle import Life, Model, stamp_of
from bot.bootstrap import open_storage, staff_seeds
from bot.config import Config
from storage.accounts import sync_people
from storage.clock import SystemClock

FIXTURE_VERSION = 3  # bump when the generator or an already-applied migration changes
# The fixture's present: a Wednesday, 10:00 in Shanghai. Fixed, so the tickets near a deadline
# (and how far a working-time category's horizon reaches) do not depend on when it was built.
PINNED_NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SPAN_DAYS = 730
BATCH = 50_000
TABLES = ("residents", "accounts", "tickets", "ticket_events")
DESCRIPTIONS = {
    "repair": ("楼道灯坏了好几天了，晚上上下楼很不方便", "厨房水管漏水，楼下邻居天花板都湿了", "单元门禁坏了关不上"),
    "sanitation": ("垃圾桶满了没人清运，味道很大", "楼下绿化带有人乱倒建筑垃圾", "小区门口垃圾分类点太脏"),
    "dispute": ("楼上装修噪音太大，晚上十点还在施工", "邻居占用楼道堆放杂物", "停车位被长期占用"),
    "gas": ("燃气卡需要代充，老人行动不便", "想办理燃气代充")}


@dataclass(frozen=True)
class Fixture:
    path: Path
    tickets: int
    residents: int
    events: int
    now: datetime  # the fixture's present: nothing happens after it
    build_seconds: float


def cache_path(tickets: int, residents: int) -> Path:
    folder = Path(tempfile.gettempdir()) / "fengshan-bench-storage"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"scale-v{FIXTURE_VERSION}-{tickets}-{residents}.db"


def load_cached(tickets: int, residents: int) -> Fixture | None:
    path = cache_path(tickets, residents)
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        return None
    data = json.loads(meta.read_text())
    return Fixture(path, tickets, residents, data["events"], datetime.fromtimestamp(data["now"], UTC),
                   data["build_seconds"])


def save_meta(fixture: Fixture) -> None:
    fixture.path.with_suffix(".json").write_text(json.dumps({
        "events": fixture.events, "now": fixture.now.timestamp(), "build_seconds": fixture.build_seconds}))


def _addresses(config: Config) -> list[tuple[str, str, str, str]]:
    """(community, compound, building, grid) of every building in config."""
    return [(g.community, c.name, b, g.id) for g in config.grids for c in g.compounds for b in c.buildings]


def _created_times(count: int, start: float, now: float, rng: random.Random) -> list[float]:
    """Sorted creation times; most in local daytime (UTC+8), as people report."""
    times = []
    for _ in range(count):
        moment = rng.uniform(start, now - 600)
        if (moment / 3600 + 8) % 24 < 7 and rng.random() < 0.8:
            moment = min(moment + 8 * 3600, now - 600)
        times.append(moment)
    times.sort()
    return times


async def _schema(path: Path, config: Config) -> None:
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    db = await open_storage(path, SystemClock())
    try:
        async with db.transaction() as conn:
            await sync_people(conn, staff_seeds(config), datetime.now(UTC))
    finally:
        await db.close()


def _residents(conn: sqlite3.Connection, config: Config, count: int, start: float,
               rng: random.Random) -> list[tuple[str, str, str, str]]:
    """Residents with a telegram account each, then one account per staff member; their addresses."""
    addresses = _addresses(config)
    homes = [rng.choice(addresses) for _ in range(count)]
    conn.executemany(
        "INSERT INTO residents (id, display_name, community_id, compound, building, grid_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((i + 1, f"居民{i + 1}", *homes[i], stamp_of(start + i * 60)) for i in range(count)))
    conn.executemany(
        "INSERT INTO accounts (channel, external_id, chat_id, resident_id, last_seen_at)"
        " VALUES ('telegram', ?, ?, ?, ?)",
        ((str(1_000_000 + i), str(1_000_000 + i), i + 1, stamp_of(start + i * 60)) for i in range(count)))
    for k, seed in enumerate(staff_seeds(config)):
        rid = count + k + 1
        conn.execute("INSERT INTO residents (id, display_name, created_at) VALUES (?, ?, ?)",
                     (rid, seed.name, stamp_of(start)))
        conn.execute("INSERT INTO accounts (channel, external_id, chat_id, resident_id, person_id)"
                     " VALUES ('telegram', ?, ?, ?, ?)", (str(9_000_000 + k), str(9_000_000 + k), rid, seed.id))
    return homes


def _lives(config: Config, homes: list, count: int, start: float, now: float,
           rng: random.Random) -> Iterator[tuple[tuple, Life]]:
    model = Model(config, rng)
    addresses = _addresses(config)
    for tid, created in enumerate(_created_times(count, start, now, rng), start=1):
        resident = int(len(homes) * rng.random() ** 1.5) + 1  # a few residents report a lot
        community, compound, building, grid = homes[resident - 1] if rng.random() < 0.9 else rng.choice(addresses)
        category = model.category()
        life = model.live(created, category, grid, resident, now)
        text = rng.choice(DESCRIPTIONS.get(category.id, ("情况说明：请网格长帮忙看一下",)))
        row = (tid, resident, category.id, text, community, compound, building, grid, life.status,
               life.level, life.rating, life.result_note, stamp_of(created), stamp_of(life.updated),
               stamp_of(life.ack_due), stamp_of(life.resolve_due))
        yield row, life


def _load(conn: sqlite3.Connection, config: Config, homes: list, count: int, start: float,
          now: float, rng: random.Random) -> int:
    """Tickets in creation order; events through a heap so their ids follow time across tickets."""
    pending: list[tuple] = []
    tickets: list[tuple] = []
    events: list[tuple] = []
    seq = next_id = 0

    def flush() -> None:
        conn.executemany(
            "INSERT INTO tickets (id, resident_id, category_id, description, community_id, compound,"
            " building, grid_id, status, escalation_level, rating, result_note, source_channel,"
            " created_at, updated_at, ack_due_at, resolve_due_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'telegram', ?, ?, ?, ?)", tickets)
        conn.executemany("INSERT INTO ticket_events (id, ticket_id, at, actor_kind, actor_id, action, note, data)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", events)
        tickets.clear()
        events.clear()

    for row, life in _lives(config, homes, count, start, now, rng):
        created = life.events[0][0]
        while pending and pending[0][0] <= created:
            at, _, tid, kind, actor, action, note, data = heapq.heappop(pending)
            next_id += 1
            events.append((next_id, tid, stamp_of(at), kind, actor, action, note, data))
        for at, kind, actor, action, note, data in life.events:
            seq += 1
            heapq.heappush(pending, (at, seq, row[0], kind, actor, action, note, data))
        tickets.append(row)
        if len(tickets) >= BATCH:
            flush()
    while pending:
        at, _, tid, kind, actor, action, note, data = heapq.heappop(pending)
        next_id += 1
        events.append((next_id, tid, stamp_of(at), kind, actor, action, note, data))
    flush()
    return next_id


async def build(config: Config, tickets: int, residents: int, now: datetime, seed: int = 7) -> Fixture:
    """Generate the database at cache_path(...); the caller runs the catch-up sweep and save_meta."""
    began = time.monotonic()
    path = cache_path(tickets, residents)
    await _schema(path, config)
    rng = random.Random(seed)
    end = now.timestamp()
    start = (now - timedelta(days=SPAN_DAYS)).timestamp()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Fixture generation only: the bot itself always runs with synchronous=FULL.
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        marks = ", ".join("?" for _ in TABLES)
        indexes = conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                               f" AND tbl_name IN ({marks})", TABLES).fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        homes = _residents(conn, config, residents, start, rng)
        events = _load(conn, config, homes, tickets, start, end, rng)
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return Fixture(path, tickets, residents, events, now, time.monotonic() - began)
