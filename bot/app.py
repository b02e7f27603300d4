"""The one wiring point: storage → services → engine (channels and sender are built on top)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.channels.splitters import SPLITTERS
from bot.config import Config
from bot.engine import Engine
from bot.faults import CrashPoints
from handlers.addresses import AddressBook
from handlers.context import Services
from handlers.dispatcher import Dispatcher
from handlers.texts import ZH, Texts
from storage.accounts import StaffSeed, sync_people
from storage.clock import Clock
from storage.db import Database


def staff_seeds(config: Config) -> list[StaffSeed]:
    return [
        StaffSeed(p.id, p.name, p.phone, role.value, grid_id, community_id, p.telegram_id, p.wechat_openid)
        for p, role, grid_id, community_id in config.all_people()
    ]


def build_services(config: Config) -> Services:
    model = config.model()  # the flows get the subdistrict model, not the platform settings
    return Services(config=model, texts=Texts(ZH), addresses=AddressBook(model), links=config.links())


@dataclass
class App:
    config: Config
    db: Database
    services: Services
    engine: Engine
    clock: Clock

    async def close(self) -> None:
        await self.db.close()


def database_path(config: Config, config_path: Path | None) -> Path:
    """A relative database path is relative to the config file's folder."""
    path = Path(config.storage.database)
    if path.is_absolute() or config_path is None:
        return path
    return config_path.resolve().parent / path


async def build_app(config: Config, clock: Clock, db_path: Path,
                    crash_points: CrashPoints | None = None) -> App:
    db = await Database.open(db_path, clock)
    try:
        async with db.transaction() as conn:
            await sync_people(conn, staff_seeds(config), clock.now())
    except BaseException:
        await db.close()
        raise
    services = build_services(config)
    engine = Engine(db, Dispatcher(services), clock, crash_points or CrashPoints(), splitters=SPLITTERS)
    return App(config, db, services, engine, clock)
