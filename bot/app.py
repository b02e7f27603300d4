"""What the bootstrap builds for every entry point: the parts, in one value (bot/bootstrap.py builds it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Config
from bot.engine import Engine
from bot.lease_loop import LeaseTiming, instance_name
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
    # Several instances on one database: this one's name as a lease and claim holder.
    instance: str = field(default_factory=instance_name)

    @property
    def lease(self) -> LeaseTiming:
        return LeaseTiming.of(self.config.storage.lease_seconds)

    async def close(self) -> None:
        await self.db.close()
