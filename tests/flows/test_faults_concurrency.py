"""Concurrent read-then-write transactions from two connections to one SQLite file (the running
bot and a CLI command such as `announce` or `invite`): no "database is locked", nothing lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.bootstrap import build_app
from bot.config import Config
from storage.clock import FakeClock
from storage.db import Database
from tests.chat import ChatUser, all_tickets, audit, file_report, pause

REPORTS_EACH = 4


async def test_two_processes_worth_of_writers_never_see_a_locked_database(
    config: Config, clock: FakeClock, tmp_path: Path
) -> None:
    """Fault: two connections (each on its own thread, like two processes) run report flows —
    reads, then writes in BEGIN IMMEDIATE — at the same time. Expected: every transaction
    waits its turn (busy_timeout) instead of failing; every ticket is there, ids unique."""
    path = tmp_path / "shared.db"
    bot, cli = await build_app(config, clock, path), await build_app(config, clock, path)
    try:
        async def resident(app_index: int, n: int) -> list[int]:
            user = ChatUser((bot, cli)[app_index], f"r{app_index}-{n}")
            filed = []
            for k in range(REPORTS_EACH):
                filed.append(await file_report(user, description=f"并发 {app_index}-{n}-{k}"))
                pause(user.app)  # within the flood guard's 20 messages a minute, as a person would be
            return filed

        filed = await asyncio.gather(*(resident(i, n) for i in (0, 1) for n in range(3)))
        ids = [ticket for batch in filed for ticket in batch]
        assert sorted(ids) == list(range(1, 2 * 3 * REPORTS_EACH + 1))
        everything = await all_tickets(bot)
        assert (len(everything), len({ticket.description for ticket in everything})) == (24, 24)
        assert len(await audit(cli, "created")) == 24
    finally:
        await bot.close()
        await cli.close()


async def test_a_counter_updated_from_two_connections_loses_no_update(clock: FakeClock, tmp_path: Path) -> None:
    """Fault: the classic lost update — read a value, then write value + 1 — from two
    connections at once. Expected: BEGIN IMMEDIATE serialises them; the total is exact."""
    path = tmp_path / "counter.db"
    first, second = await Database.open(path, clock), await Database.open(path, clock)
    try:
        async with first.transaction() as conn:
            await conn.execute("INSERT INTO channel_state (key, value) VALUES ('counter', '0')")

        async def bump(db: Database, times: int) -> None:
            for _ in range(times):
                async with db.transaction() as conn:
                    async with conn.execute("SELECT value FROM channel_state WHERE key = 'counter'") as cur:
                        row = await cur.fetchone()
                    await asyncio.sleep(0)  # let the other connection try to get in between
                    await conn.execute("UPDATE channel_state SET value = ? WHERE key = 'counter'",
                                       (str(int(row[0]) + 1),))

        await asyncio.gather(*(bump(db, 50) for db in (first, second, first, second)))
        async with second.read() as conn, conn.execute(
            "SELECT value FROM channel_state WHERE key = 'counter'"
        ) as cur:
            assert (await cur.fetchone())[0] == "200"
    finally:
        await first.close()
        await second.close()
