from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config, load_config
from storage.clock import FakeClock
from storage.db import Database
from tests.chat import ChatUser
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.pg_cluster import TEMPLATE, Cluster
from tests.telegram_harness import TelegramRun, start_run

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

# Fails any test that connects beyond 127.0.0.1, here or in a process it starts.
pytest_plugins = ["tests.guard.plugin", "pytester"]

# Markers by folder (registered in pyproject.toml): `-m "not e2e"` is the quick run.
LAYER_MARKERS = {"e2e": ("e2e", "slow")}


# Layers whose `db` / `app` tests run on both engines. In tests/e2e only those marked
# `both_engines` do (a representative set: each costs a bot's start and its flows twice).
BOTH_ENGINES = {"flows", "integration"}
ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    path = Path(str(metafunc.definition.path))
    if "engine" not in metafunc.fixturenames or not path.is_relative_to(TESTS):
        return
    marked = metafunc.definition.get_closest_marker("both_engines") is not None
    if path.relative_to(TESTS).parts[0] in BOTH_ENGINES or marked:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("engine", ENGINES[:1] if sqlite_only else ENGINES, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(TESTS):
            for marker in LAYER_MARKERS.get(item.path.relative_to(TESTS).parts[0], ()):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def sample_config() -> Config:
    return load_config(ROOT / "config.yaml")


@pytest.fixture
def config(sample_config: Config, pg_url: str | None) -> Config:
    """The sample config; on PostgreSQL with storage.url set, so whatever the test builds from it
    (the app, a CLI command) opens this test's database."""
    if pg_url is None:
        return sample_config
    return sample_config.model_copy(update={"storage": sample_config.storage.model_copy(update={"url": pg_url})})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL server for the session, with a migrated template database.

    It is started only when a test asks for PostgreSQL; if it cannot start, those tests fail
    with the reason (never skip: CI must run them)."""
    cluster = Cluster.start()
    try:
        async def prepare() -> None:
            url = await cluster.create(TEMPLATE)
            template = await Database.open(url, FakeClock())
            await template.close()

        # Its own loop in its own thread: the first test to ask may be inside a running loop.
        with ThreadPoolExecutor(1) as worker:
            worker.submit(asyncio.run, prepare()).result()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test: both in tests/flows and tests/integration and for the e2e tests
    marked `both_engines`, else SQLite."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
async def pg_url(engine: str, request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """A fresh migrated PostgreSQL database for this test (a clone of the template), or None."""
    if engine != "postgresql":
        yield None
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name, url = await cluster.clone()
    yield url
    await cluster.drop(name)


@pytest.fixture
async def db(clock: FakeClock, tmp_path: Path, pg_url: str | None) -> AsyncIterator[Database]:
    """A migrated database without the rest of the app: a real SQLite file, or PostgreSQL."""
    opened = await Database.open(pg_url or tmp_path / "store.db", clock)
    yield opened
    await opened.close()


@pytest.fixture
async def app(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    built = await build_app(config, clock, tmp_path / "bot.db")
    yield built
    await built.close()


@pytest.fixture
def resident(app: App) -> ChatUser:
    return ChatUser(app, "resident-1")


@pytest.fixture
def leader(app: App) -> ChatUser:
    return ChatUser(app, "leader-g01")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client for talking to the bot's server or a fake platform on 127.0.0.1."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API on 127.0.0.1 (WeChat modules name their own fake after wechat_fake).

    Leaving it fails the test if the bot made a request the vendored Bot API spec refuses,
    unless the test declared it with ``fake.expect_violations(...)``."""
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def run(config: Config, fake: FakeTelegramAPI, clock: FakeClock, tmp_path: Path) -> AsyncIterator[TelegramRun]:
    """The real Telegram channel in this event loop against `fake`."""
    started = await start_run(config, fake, clock, tmp_path / "tg.db")
    yield started
    await started.close()


@pytest.fixture
async def wechat_fake() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        yield api
