from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import App, build_app
from bot.config import Config, load_config
from storage.clock import FakeClock
from tests.chat import ChatUser
from tests.fakes.wechat_api import FakeWeChatAPI

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(ROOT / "config.yaml")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


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
async def wechat_fake() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        yield api
