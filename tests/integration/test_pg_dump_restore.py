"""Backup and restore on PostgreSQL as the README's Operations section says: `pg_dump -Fc` of the
live database, `pg_restore` into a new empty one, and the bot on the restored database serves
the old ticket and numbers the next one after it (identities are restored too)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.bootstrap import build_app
from bot.config import Config
from storage.clock import FakeClock
from tests.chat import ChatUser, file_report
from tests.pg_cluster import Cluster

pytestmark = pytest.mark.timeout(90)


def on(config: Config, url: str) -> Config:
    return config.model_copy(update={"storage": config.storage.model_copy(update={"url": url})})


async def run(*command: str) -> str:
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_pg_dump_and_pg_restore_bring_back_every_ticket(
        pg_cluster: Cluster, sample_config: Config, tmp_path: Path) -> None:
    live = await pg_cluster.create("fengshan_live")
    restored = await pg_cluster.create("fengshan_restored")
    dump = tmp_path / "fengshan.dump"
    try:
        app = await build_app(on(sample_config, live), FakeClock(), tmp_path / "unused.db")
        try:
            assert await file_report(ChatUser(app, "resident-1")) == 1
        finally:
            await app.close()

        await run(str(pg_cluster.bindir / "pg_dump"), "-Fc", "-f", str(dump), "-d", live)
        await run(str(pg_cluster.bindir / "pg_restore"), "--no-owner", "--exit-on-error", "-d", restored, str(dump))

        app = await build_app(on(sample_config, restored), FakeClock(), tmp_path / "unused.db")
        try:
            resident = ChatUser(app, "resident-1")
            await resident.say("/mytickets")
            assert any("#1" in option for option in resident.options), resident.text
            assert await file_report(ChatUser(app, "resident-2"), address="龙池花园5栋") == 2
        finally:
            await app.close()
    finally:
        await pg_cluster.drop("fengshan_live")
        await pg_cluster.drop("fengshan_restored")
