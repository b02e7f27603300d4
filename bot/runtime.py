"""Running the bot: Telegram (intake + sender), the console, and one-off commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from bot.app import App, build_app, database_path
from bot.channels.console import ConsoleChannel, resolve_identity, stdin_lines
from bot.channels.telegram import TelegramTransport, build_bot
from bot.channels.telegram_intake import TelegramIntake
from bot.channels.telegram_webhook import webhook_handler
from bot.config import Config, Settings, TelegramMode
from bot.faults import CrashPoints
from bot.http_server import HttpServer
from bot.ratelimit import ChatRateLimits
from bot.sender import OutboxSender
from handlers.dispatcher import create_invite
from storage.clock import SystemClock

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 15.0


def console_database(config: Config, config_file: Path, database: Path | None) -> Path:
    """The console keeps its own database, so trying flows never touches real residents' data."""
    main = database or database_path(config, config_file)
    return main.with_name(f"{main.stem}-console{main.suffix}")


async def run_console(config: Config, config_file: Path, database: Path | None, identity: str) -> int:
    app = await build_app(config, SystemClock(), console_database(config, config_file, database))
    try:
        who = resolve_identity(app, identity)
        if who is None:
            print(f"unknown identity {identity!r}: use resident:<name>, leader:G01, guide:G01, admin",
                  file=sys.stderr)
            return 2
        channel = ConsoleChannel(app, who, lambda text: print(text, flush=True))
        await channel.run(stdin_lines())
        return 0
    finally:
        await app.close()


async def run_invite(config: Config, config_file: Path, database: Path | None,
                     grid_id: str | None, role: str, person_id: str | None) -> int:
    if person_id is None:
        grid = config.grid((grid_id or "").upper())
        if grid is None:
            print(f"unknown grid {grid_id!r}; use --grid G01..G{len(config.grids):02d} or --person ID",
                  file=sys.stderr)
            return 2
        people = {"leader": grid.leaders, "guide": [grid.guide], "worker": grid.workers}[role]
        if not people:
            print(f"grid {grid.id} has no {role}", file=sys.stderr)
            return 2
        person_id = people[0].id
    known = {p.id: p.name for p, _, _, _ in config.all_people()}
    if person_id not in known:
        print(f"unknown person {person_id!r}", file=sys.stderr)
        return 2
    app = await build_app(config, SystemClock(), database or database_path(config, config_file))
    try:
        async with app.db.transaction() as conn:
            code = await create_invite(conn, person_id, app.clock.now())
    finally:
        await app.close()
    print(f"邀请码 invite code for {known[person_id]} ({person_id}): {code}")
    print(f"Telegram: /bind {code}")
    if config.telegram.bot_username:
        print(f"Telegram link: https://t.me/{config.telegram.bot_username}?start=bind-{code}")
    print(f"WeChat: 绑定 {code}")
    return 0


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


async def run_telegram(app: App, settings: Settings, stop: asyncio.Event,
                       limits: ChatRateLimits | None = None, http: HttpServer | None = None) -> None:
    """Run Telegram until `stop`: intake (polling or webhook) and the outbox sender."""
    telegram = app.config.telegram
    bot = build_bot(settings.telegram_token, telegram.base_url, telegram.base_file_url, telegram.read_timeout)
    intake = TelegramIntake(bot, app.db, app.engine, app.services.texts, telegram.poll_timeout)
    wake = asyncio.Event()
    app.engine.outbox_wakers.append(wake)
    titles = tuple(m.title for m in app.config.menus)
    sender = OutboxSender(app.db, app.clock, TelegramTransport(bot, titles, limits), wake,
                          app.engine.crash_points)
    webhook = telegram.mode is TelegramMode.WEBHOOK
    server = http or HttpServer(app.config.http)
    stored = asyncio.Event()
    tasks: list[asyncio.Task] = []
    try:
        if webhook:
            handler = webhook_handler(intake, settings.telegram_webhook_secret, stored)
            server.add_post(telegram.webhook_path, handler)
            await server.start()
            await intake.setup(telegram.webhook_public_url, settings.telegram_webhook_secret)
        else:
            await intake.setup()
        log.info("Telegram channel started as @%s (%s)", bot.username, telegram.mode.value)
        sending = asyncio.create_task(sender.run(stop), name="telegram-sender")
        receiving = asyncio.create_task(
            intake.run_processing(stop, stored) if webhook else intake.run(stop), name="telegram-intake"
        )
        tasks = [sending, receiving, asyncio.create_task(stop.wait())]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task in (sending, receiving) and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        await server.stop()
        await _wind_down(tasks)
        await bot.shutdown()


async def _wind_down(tasks: list[asyncio.Task]) -> None:
    """Cancel intake (its handling rolls back and is redone); let sends in flight be recorded."""
    if not tasks:
        return
    sending, receiving, stopper = tasks
    receiving.cancel()
    stopper.cancel()
    try:
        # A clean stop leaves no row 'sending', so nothing is wrongly marked uncertain later.
        await asyncio.wait_for(sending, timeout=SHUTDOWN_GRACE_SECONDS)
    except (TimeoutError, Exception):
        log.warning("outbox sender did not stop cleanly")
    await asyncio.gather(receiving, stopper, return_exceptions=True)


async def run_bot(config: Config, config_file: Path, database: Path | None, settings: Settings) -> int:
    if not settings.telegram_token:
        print("未配置 TELEGRAM_BOT_TOKEN，打开控制台频道（console channel）。", file=sys.stderr)
        return await run_console(config, config_file, database, "resident:居民")
    app = await build_app(config, SystemClock(), database or database_path(config, config_file),
                          CrashPoints.from_env(os.environ))
    stop = asyncio.Event()
    _stop_on_signals(stop)
    try:
        await run_telegram(app, settings, stop)
    finally:
        await app.close()
    return 0
