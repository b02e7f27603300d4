"""The channel supervisor: a failing loop is restarted with back-off, a rejected credential stops
only its channel, and /healthz says which is which."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram.error import InvalidToken

from bot.app import App
from bot.bootstrap import build_app
from bot.channels.wechat.api import WeChatError
from bot.config import Config
from bot.config_channels import HttpSettings
from bot.http_server import HttpServer
from bot.ratelimit import ChatRateLimits
from bot.run_channels import config_error, run_channels
from bot.settings import Settings
from bot.supervisor import LoopState, Supervisor
from storage.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_harness import config_for


class Waits:
    """The supervisor's sleep: records each back-off instead of waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


async def test_a_failing_loop_is_restarted_with_back_off_and_the_others_keep_running(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    waits = Waits()
    supervisor = Supervisor(clock, sleep=waits, is_fatal=config_error)
    stop = asyncio.Event()
    failures = 3
    steady_runs = 0

    async def flaky(stop: asyncio.Event) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise RuntimeError("database is locked")
        await stop.wait()

    async def steady(stop: asyncio.Event) -> None:
        nonlocal steady_runs
        steady_runs += 1
        await stop.wait()

    tasks = [asyncio.create_task(supervisor.run("flaky", flaky, stop)),
             asyncio.create_task(supervisor.run("steady", steady, stop))]
    for _ in range(100):
        if failures == 0 and supervisor.health["flaky"].state is LoopState.RUNNING:
            break
        await asyncio.sleep(0)
    assert waits.delays == [1.0, 2.0, 4.0]
    flaky_health = supervisor.health["flaky"]
    assert flaky_health.state is LoopState.RUNNING and flaky_health.restarts == 3
    assert flaky_health.last_error_at == clock.now() and flaky_health.last_error == "RuntimeError"
    assert steady_runs == 1 and supervisor.health["steady"].restarts == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3 and all("flaky" in r.getMessage() and r.exc_info for r in errors)
    assert supervisor.report()["status"] == "ok"
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)


@pytest.mark.parametrize("error", [
    InvalidToken("Unauthorized"),
    WeChatError(40125, "invalid appsecret"),
])
async def test_a_rejected_credential_stops_only_that_loop_with_one_line(
    clock: FakeClock, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    waits = Waits()
    supervisor = Supervisor(clock, sleep=waits, is_fatal=config_error)
    stop = asyncio.Event()

    async def rejected(stop: asyncio.Event) -> None:
        raise error

    await asyncio.wait_for(supervisor.run("channel", rejected, stop), timeout=5)
    assert waits.delays == []
    assert supervisor.health["channel"].state is LoopState.STOPPED
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None and "channel" in errors[0].getMessage()
    assert supervisor.report()["status"] == "stopped"


class Running:
    def __init__(self, app: App, server: HttpServer, task: asyncio.Task, stop: asyncio.Event) -> None:
        self.app, self.server, self.task, self.stop = app, server, task, stop

    async def health(self) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as session, session.get(
                f"http://127.0.0.1:{self.server.port}/healthz") as response:
            return response.status, await response.json()


@pytest.fixture
async def polling(config: Config, fake: FakeTelegramAPI, clock: FakeClock,
                  tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    token = getattr(request, "param", fake.token)
    app = await build_app(config_for(config, fake), clock, tmp_path / "sup.db")
    server = HttpServer(HttpSettings(host="127.0.0.1", port=0, health=True))
    stop = asyncio.Event()
    supervisor = Supervisor(clock, sleep=Waits(), is_fatal=config_error)
    task = asyncio.create_task(run_channels(app, Settings(telegram_token=token), stop,
                                            ChatRateLimits(private_burst=100), server, supervisor))
    for _ in range(250):  # until the server listens (port 0: the OS picks one)
        if server.port:
            break
        await asyncio.sleep(0.02)
    yield Running(app, server, task, stop)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await app.close()


@pytest.mark.parametrize("polling", ["123456:WRONG"], indirect=True)
async def test_a_rejected_token_stops_telegram_and_healthz_answers_503(
    polling: Running, fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    status, body = 0, {}
    for _ in range(250):
        status, body = await polling.health()
        if status == 503:
            break
        await asyncio.sleep(0.02)
    assert status == 503 and body["status"] == "stopped"
    assert body["channels"]["telegram-intake"]["state"] == "stopped"
    assert body["channels"]["telegram-sender"]["state"] == "running"
    assert not polling.task.done()  # the process stays up for the other channels
    records = caplog.get_records("setup") + caplog.records  # it may stop while the fixture starts
    lines = [r for r in records if "token" in r.getMessage().lower() and r.levelno >= logging.ERROR]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "WRONG" not in caplog.text
    assert body["channels"]["telegram-intake"]["restarts"] == 0  # not retried in a loop


async def test_an_unexpected_failure_restarts_the_intake_and_it_serves_again(
    polling: Running, fake: FakeTelegramAPI, clock: FakeClock
) -> None:
    await fake.wait_for_call("setMyCommands")
    status, body = await polling.health()
    assert status == 200 and body["channels"]["telegram-intake"] == {
        "state": "running", "restarts": 0, "last_error_at": None, "last_error": ""}
    # A Bot API server that suddenly answers 404 to getUpdates (a misrouted proxy).
    fake.fail_next("getUpdates", status=404, description="Not Found")
    mark = len(fake.sent)
    fake.push_text(1001, "/help")
    await fake.wait_for(lambda m: m.chat_id == 1001 and "使用说明" in (m.text or ""), after=mark)
    status, body = await polling.health()
    intake = body["channels"]["telegram-intake"]
    assert status == 200 and intake["state"] == "running" and intake["restarts"] == 1
    assert intake["last_error_at"] == clock.now().isoformat() and intake["last_error"] == "EndPointNotFound"
