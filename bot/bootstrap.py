"""The one wiring point of every entry point (`run`, the console, each CLI command, the
benchmarks), built in one order: storage → services → engine → channels → senders → scheduler.

Nothing else opens a Database, builds an OutboxSender or a Scheduler: an entry point asks for
the stages it needs (a CLI command stops after the engine; `run` goes on to the channels).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.app import App
from bot.channels.console import ConsoleChannel, ConsoleTransport, ConsoleView
from bot.channels.splitters import SPLITTERS
from bot.config import Config
from bot.engine import Engine
from bot.faults import CrashPoints
from bot.group_feedback import GroupFeedback
from bot.notifier import Notifier
from bot.scheduler import Scheduler
from bot.sender import OutboxSender, Transport
from handlers.addresses import AddressBook
from handlers.context import Services
from handlers.dispatcher import Dispatcher
from handlers.texts import ZH, Texts
from storage import deadlines
from storage.accounts import StaffSeed, sync_people
from storage.clock import Clock
from storage.db import Database


def database_path(config: Config, config_path: Path | None) -> Path:
    """A relative database path is relative to the config file's folder."""
    path = Path(config.storage.database)
    if path.is_absolute() or config_path is None:
        return path
    return config_path.resolve().parent / path


# Stage 1: storage.
async def open_storage(db_path: Path | str, clock: Clock) -> Database:
    """The database alone, migrated (a command that needs no flows: the WeChat menu push)."""
    return await Database.open(db_path, clock)


def staff_seeds(config: Config) -> list[StaffSeed]:
    return [
        StaffSeed(p.id, p.name, p.phone, role.value, grid_id, community_id, p.telegram_id, p.wechat_openid)
        for p, role, grid_id, community_id in config.all_people()
    ]


# Stage 2: services.
def build_services(config: Config) -> Services:
    model = config.model()  # the flows get the subdistrict model, not the platform settings
    return Services(config=model, texts=Texts(ZH), addresses=AddressBook(model), links=config.links())


# Stages 1-3: storage (with the config's staff), services, engine; what every entry point shares.
async def build_app(config: Config, clock: Clock, db_path: Path,
                    crash_points: CrashPoints | None = None) -> App:
    # storage.url (PostgreSQL) takes the place of the SQLite file for every entry point.
    db = await open_storage(config.storage.url or db_path, clock)
    try:
        async with db.transaction() as conn:
            await sync_people(conn, staff_seeds(config), clock.now())
            await deadlines.look_again_at_watched(conn)  # the config may have moved a warning earlier
    except BaseException:
        await db.close()
        raise
    services = build_services(config)
    notifier = Notifier()
    engine = Engine(db, Dispatcher(services), clock, crash_points or CrashPoints(), splitters=SPLITTERS,
                    notifier=notifier)
    return App(config, db, services, engine, clock, notifier)


# Stage 5: one sender per channel transport (stage 4, the channels, is the caller's: run_channels
# or the console), woken by the notifier only for its own channel.
def build_sender(app: App, transport: Transport, lease_db: Database | None = None) -> OutboxSender:
    wake = app.notifier.subscribe(transport.channel)
    feedback = GroupFeedback(app.services, app.engine)
    timing = app.lease
    return OutboxSender(app.db, app.clock, transport, wake, app.engine.crash_points, feedback,
                        texts=app.services.texts, holder=app.instance, claim_lease=timing.length,
                        heartbeat=timing.heartbeat, lease_db=lease_db)


# Stage 6: the scheduler, last: it writes through the engine and wakes the senders.
def build_scheduler(app: App) -> Scheduler:
    return Scheduler(app.engine, app.services, holder=app.instance, lease=app.lease.length)


# The console, all stages at once: its channel, its sender and its scheduler (no clock ticks
# in a terminal: what is due runs after each line).
def build_console(app: App, identity: str, write: Callable[[str], None], log_file: Path | None = None
                  ) -> ConsoleChannel:
    view = ConsoleView(write)
    transport = ConsoleTransport(view, {})
    return ConsoleChannel(app, identity, view, transport, build_sender(app, transport), build_scheduler(app),
                          log_file)
