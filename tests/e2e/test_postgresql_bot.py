"""The real bot process on PostgreSQL (`storage.url`) against the fake Bot API: a leader binds,
a resident files one report, the card and the confirmation go out, and the server holds it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml

from bot.bootstrap import build_app
from bot.config import Config, load_config
from handlers.dispatcher import create_invite
from storage import reads
from storage.clock import SystemClock
from storage.engine import Engine
from tests.conftest import ROOT
from tests.e2e.test_crash_recovery import LEADER, RESIDENT, press, reply, report_up_to_submit
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.pg_cluster import Cluster

pytestmark = pytest.mark.timeout(90)


def write_config(fake: FakeTelegramAPI, folder: Path, url: str) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["telegram"] = {"base_url": f"{fake.url}/bot", "base_file_url": fake.file_url,
                        "bot_username": fake.bot_username, "poll_timeout": 1}
    # No SQLite file may appear: storage.database names one that must stay absent.
    data["storage"] = {"database": str(folder / "unused.db"), "url": url}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def open_app(config: Config, folder: Path):  # noqa: ANN201 - the App, as build_app gives it
    return await build_app(config, SystemClock(), folder / "unused.db")


async def test_the_bot_runs_on_postgresql(pg_cluster: Cluster, fake: FakeTelegramAPI, tmp_path: Path) -> None:
    url = await pg_cluster.create("bot_process")
    config_path = write_config(fake, tmp_path, url)
    config = load_config(config_path)
    app = await open_app(config, tmp_path)
    try:
        assert app.db.engine is Engine.POSTGRESQL
        async with app.db.transaction() as conn:
            code = await create_invite(conn, "g01-leader", app.clock.now())
    finally:
        await app.close()

    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "FENGSHAN_DB_PASSWORD": "not-needed-by-trust"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), "run",
        env=env, cwd=str(ROOT), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_for_call("setMyCommands", timeout=30)
        fake.push_text(LEADER, f"/bind {code}")
        await reply(fake, LEADER, "绑定成功")
        await report_up_to_submit(fake)
        press(fake, RESIDENT, "提交")
        await reply(fake, LEADER, "新工单 #1")
        await reply(fake, RESIDENT, "工单号 #1")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=20)
    stderr = (await process.stderr.read()).decode(errors="replace") if process.stderr else ""
    assert process.returncode == 0, stderr[-2000:]
    assert "not-needed-by-trust" not in stderr

    app = await open_app(config, tmp_path)
    try:
        async with app.db.read() as conn:
            stored = await reads.all_tickets(conn)
    finally:
        await app.close()
        await pg_cluster.drop("bot_process")
    assert [(t.id, t.category_id, t.building) for t in stored] == [(1, "repair", "3栋")]
    assert not (tmp_path / "unused.db").exists()
