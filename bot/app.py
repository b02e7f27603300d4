"""What the bootstrap builds for every entry point: the parts, in one value (bot/bootstrap.py builds it)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.engine import Engine
from bot.notifier import Notifier
from handlers.context import Services
from storage.clock import Clock
from storage.db import Database


@dataclass
class App:
    config: Config
    db: Database
    services: Services
    engine: Engine
    clock: Clock
    notifier: Notifier

    async def close(self) -> None:
        await self.db.close()
