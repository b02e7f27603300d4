"""Fixtures the workplace's browser tests share: the real bot (fake Telegram, the workplace on a
free loopback port with its public URL) and a fresh headless Chromium profile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from bot.config import Config
from bot.config_channels import HttpSettings
from storage.clock import FakeClock
from tests.browser import chromium, free_port
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_harness import TelegramRun, start_run


@pytest.fixture
async def web_run(config: Config, fake: FakeTelegramAPI, clock: FakeClock, tmp_path: Path
                  ) -> AsyncIterator[TelegramRun]:
    port = free_port()
    http = HttpSettings(host="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}")
    # bot.db: the file the command line's config (tests/e2e/test_cli.py write_config) names, so a
    # test may run `fengshan-bot stats` on the same database.
    started = await start_run(config.model_copy(update={"http": http}), fake, clock, tmp_path / "bot.db")
    yield started
    await started.close()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "profile") as context:
        yield context
