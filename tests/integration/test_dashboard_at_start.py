"""The office-hours durations the 三率 dashboard ranks (ticket_rate_marks, working-time
categories) are written when the bot starts, before anything is served (bot/run_channels.py),
so the first dashboard request after an upgrade does not pay for every such ticket."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from bot.app import App
from bot.config import Config
from bot.config_channels import HttpSettings
from bot.http_server import HttpServer
from bot.run_channels import run_channels
from bot.settings import Settings
from handlers.domain.durations import elapsed
from storage.clock import parse_stamp
from storage.stats_marks import WORK_KEY
from tests.integration.test_storage_scale_queries import _random_log

US = timedelta(microseconds=1)


async def test_office_hours_durations_are_written_before_anything_is_served(app: App, config: Config) -> None:
    async with app.db.transaction() as conn:
        await _random_log(conn, config, random.Random(5), 150)
        # As migration 0030 leaves it: no office-hours calendar written yet.
        await conn.execute("DELETE FROM channel_state WHERE key = ?", (WORK_KEY,))

    server = HttpServer(HttpSettings(host="127.0.0.1", port=0, health=True))
    stop = asyncio.Event()
    task = asyncio.create_task(run_channels(app, Settings(), stop, http=server))
    try:
        for _ in range(500):  # until the server listens: the durations were written before it
            if server.port or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.port
        async with app.db.read() as conn:
            due = (await conn.execute_fetchall("SELECT COUNT(*) FROM ticket_rate_marks WHERE work_due = 1"))[0][0]
            working = [c.id for c in config.categories if c.working_hours]
            rows = await conn.execute_fetchall(
                "SELECT m.category_id, f.created_at, f.ack_at, m.response_us FROM ticket_rate_marks AS m"
                " JOIN ticket_rate_facts AS f ON f.ticket_id = m.ticket_id"
                f" WHERE m.response_us IS NOT NULL AND m.category_id IN ({', '.join('?' for _ in working)})",
                working)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    categories = {c.id: c for c in config.categories}
    expected = [elapsed(config, categories[r[0]], parse_stamp(r[1]), parse_stamp(r[2])) // US for r in rows]
    clock_time = [(parse_stamp(r[2]) - parse_stamp(r[1])) // US for r in rows]
    assert due == 0
    assert len(rows) > 10
    assert [r[3] for r in rows] == expected  # office hours, as the dashboard ranks them
    assert expected != clock_time  # (what the fold alone would have left there)


@pytest.mark.sqlite_only  # a TEMP trigger on the bot's one connection stands in for a failing database
async def test_a_failure_there_is_logged_and_the_bot_serves_anyway(
    app: App, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    async with app.db.transaction() as conn:
        await _random_log(conn, config, random.Random(6), 40)
        await conn.execute("DELETE FROM channel_state WHERE key = ?", (WORK_KEY,))
        await conn.execute("CREATE TEMP TRIGGER marks_fail BEFORE UPDATE ON ticket_rate_marks"
                           " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    server = HttpServer(HttpSettings(host="127.0.0.1", port=0, health=True))
    stop = asyncio.Event()
    task = asyncio.create_task(run_channels(app, Settings(), stop, http=server))
    try:
        for _ in range(500):
            if server.port or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.port and not task.done()  # serving: the chat does not wait on the dashboard
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert "office-hours durations not written at start" in caplog.text
    async with app.db.read() as conn:
        assert (await conn.execute_fetchall("SELECT value FROM channel_state WHERE key = ?", (WORK_KEY,))) == []
