"""Fixtures the platform-fault modules share: a relay in front of the fake Bot API that can drop
a connection after the request (`gate`), and the sender talking through it (`gated`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.clock import FakeClock
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.integration.test_faults_platform import Courier, Gate, open_courier


@pytest.fixture
async def gate(fake: FakeTelegramAPI) -> AsyncIterator[Gate]:
    relay = Gate(int(fake.url.rsplit(":", 1)[1]))
    await relay.open()
    yield relay
    await relay.shut()


@pytest.fixture
async def gated(db: Database, clock: FakeClock, fake: FakeTelegramAPI, gate: Gate) -> AsyncIterator[Courier]:
    built, bot = await open_courier(db, clock, fake, gate.url)
    yield built
    await bot.shutdown()
