"""Runs every configured channel in one event loop: Telegram, the WeChat account, WeCom robots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from telegram.error import InvalidToken

from bot.app import App
from bot.bootstrap import build_scheduler, build_sender
from bot.channels.telegram.intake import TelegramIntake
from bot.channels.telegram.media import TelegramMedia
from bot.channels.telegram.transport import TelegramTransport, build_bot
from bot.channels.telegram.webhook import webhook_handler
from bot.channels.wechat.api import WeChatAPI, WeChatError
from bot.channels.wechat.callback import WeChatCallback
from bot.channels.wechat.intake import WeChatIntake
from bot.channels.wechat.media import WeChatMedia
from bot.channels.wechat.security import Cipher
from bot.channels.wechat.transport import WeChatTransport
from bot.channels.wecom import WeComTransport
from bot.config_channels import TelegramMode, WeChatSecurity
from bot.http_server import HttpServer
from bot.lease_loop import LeasedLoop
from bot.media import MediaStore, with_web_photos
from bot.ratelimit import ChatRateLimits
from bot.sender import Transport
from bot.settings import Settings, wechat_enabled
from bot.supervisor import ConfigurationError, Loop, Sleep, Supervisor
from bot.web import mount_workplace
from bot.web.app import end_stale_sessions
from handlers.dashboard import write_work_at_start
from storage import groups
from storage.db import Database
from storage.engine import Engine as StorageEngine

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 15.0
# Several instances: how often the inbox's handler looks for updates other instances stored (a
# commit in another process wakes nobody here), as the sender looks for rows they queued.
INBOX_LOOK = 0.25
# WeChat refusing the account itself: wrong AppID or AppSecret, missing ones, server IP not allowed.
WECHAT_CREDENTIAL_ERRORS = frozenset({40013, 40125, 40164, 41002, 41004})


def config_error(error: BaseException) -> str | None:
    """What is wrong, if `error` is a configuration or credential error: retrying cannot help,
    so the supervisor stops that channel instead of restarting it."""
    if isinstance(error, ConfigurationError):
        return str(error)
    if isinstance(error, InvalidToken):
        return "Telegram rejected the bot token (TELEGRAM_BOT_TOKEN)"
    if isinstance(error, WeChatError) and error.code in WECHAT_CREDENTIAL_ERRORS:
        return f"WeChat refused the account's credentials ({error.code}; check wechat.app_id and WECHAT_APP_SECRET)"
    return None


@dataclass
class Plan:
    """What the configured channels need: HTTP routes, start-up calls, loops, clean-ups."""

    receivers: dict[str, Loop] = field(default_factory=dict)  # cancelled at stop: handling rolls back
    senders: dict[str, Loop] = field(default_factory=dict)  # given time to record sends in flight
    after_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    needs_http: bool = False
    # Each channel's fetcher, for the others' transports: a photo crosses platforms at send time.
    media: MediaStore = field(default_factory=MediaStore)
    # Several instances: the connection leases and claims are renewed on (Database.companion).
    lease_db: Database | None = None


def leased(app: App, plan: Plan, name: str, loop: Loop, sleep: Sleep = asyncio.sleep) -> Loop:
    """Several instances on one PostgreSQL database: `loop` runs on one of them at a time (the
    lease holder; bot/lease_loop.py), its lease kept on the plan's own connection. SQLite is one
    process: the loop runs as it is."""
    if app.db.engine is StorageEngine.SQLITE:
        return loop
    return LeasedLoop(plan.lease_db or app.db, app.clock, name, app.instance, app.lease, sleep).wrap(loop)


def _sender(app: App, plan: Plan, transport: Transport) -> Loop:
    # One sender per channel across instances: the platform's limits (Telegram's per token and per
    # group, WeCom's per robot) are counted in its memory (bot/ratelimit.py), so they hold.
    sender = build_sender(app, transport, plan.lease_db)
    return leased(app, plan, f"sender-{transport.channel}", sender.run)


def webhook_processing(app: App, plan: Plan, intake: TelegramIntake, stored: asyncio.Event,
                       sleep: Sleep = asyncio.sleep) -> Loop:
    """Webhook mode: the loop that handles what the webhook stored. Several instances on one
    PostgreSQL database: each stores what its webhook receives, but one of them (the holder of the
    `telegram-inbox` lease) handles the inbox, looking every INBOX_LOOK seconds for what the others
    stored. One handler means a chat's updates are handled in the inbox's order, and what a killed
    instance stored is handled by the next holder within the lease — never while the holder is
    merely slow, since its heartbeat (on the plan's own connection) keeps the lease. SQLite: one
    process, woken by its own webhook."""
    if app.db.engine is StorageEngine.SQLITE:
        return intake.run_processing_loop(stored)
    return leased(app, plan, "telegram-inbox", intake.run_processing_loop(stored, INBOX_LOOK), sleep)


def plan_telegram(app: App, settings: Settings, plan: Plan, server: HttpServer,
                  limits: ChatRateLimits | None) -> None:
    telegram = app.config.telegram
    bot = build_bot(settings.telegram_token, telegram.base_url, telegram.base_file_url, telegram.read_timeout)
    intake = TelegramIntake(bot, app.db, app.engine, app.services.texts, telegram.poll_timeout)
    titles = tuple(m.title for m in app.config.menus)
    plan.media.register("telegram", TelegramMedia(bot))
    plan.senders["telegram-sender"] = _sender(app, plan, TelegramTransport(bot, titles, limits, plan.media))
    plan.closers.append(bot.shutdown)
    # Set-up is part of the supervised loop: a network error at start is retried with back-off,
    # a rejected token stops this channel only.
    if telegram.mode is TelegramMode.WEBHOOK:
        stored = asyncio.Event()
        server.add_post(telegram.webhook_path, webhook_handler(intake, settings.telegram_webhook_secret, stored))
        plan.needs_http = True

        process = webhook_processing(app, plan, intake, stored)

        async def receive(stop: asyncio.Event) -> None:
            await intake.setup(telegram.webhook_public_url, settings.telegram_webhook_secret)
            await process(stop)
    else:
        async def poll(stop: asyncio.Event) -> None:
            await intake.setup()
            await intake.run(stop)

        # Only the lease holder polls (a second getUpdates would take updates from the first).
        receive = leased(app, plan, "telegram-polling", poll)
    plan.receivers["telegram-intake"] = receive
    log.info("Telegram channel configured (%s)", telegram.mode.value)


def wechat_leftovers(app: App, plan: Plan, intake: WeChatIntake, sleep: Sleep = asyncio.sleep) -> Loop:
    """The loop that handles WeChat inbox items left pending (a crash, a failure). Several
    instances: each retries its own failures, and the holder of the `wechat-inbox` lease also
    looks every INBOX_LOOK seconds for items older than the lease (their instance died): one
    instance at a time, and never while the instance that received one may still answer it."""
    if app.db.engine is StorageEngine.SQLITE:
        return intake.run
    sweep = leased(app, plan, "wechat-inbox", intake.sweep(INBOX_LOOK), sleep)

    async def both(stop: asyncio.Event) -> None:
        await asyncio.gather(intake.run(stop), sweep(stop))
    return both


def plan_wechat(app: App, settings: Settings, plan: Plan, server: HttpServer,
                session: aiohttp.ClientSession) -> WeChatIntake:
    wechat = app.config.wechat
    settled = None if app.db.engine is StorageEngine.SQLITE else app.lease.length
    intake = WeChatIntake(app.db, app.engine, app.services.texts, wechat.reply_deadline, settled)
    cipher = (Cipher(settings.wechat_token, settings.wechat_aes_key, wechat.app_id)
              if wechat.security is not WeChatSecurity.PLAIN else None)
    WeChatCallback(intake, settings.wechat_token, wechat.security, cipher, app.clock).add_routes(
        server.app, wechat.callback_path)
    api = WeChatAPI(session, app.db, app.clock, wechat.api_base_url, wechat.app_id,
                    settings.wechat_app_secret, wechat.timeout)
    uploader = WeChatMedia(api, session)
    plan.media.register("wechat", uploader)
    transport = WeChatTransport(api, app.db, app.clock, wechat, app.services.texts,
                                app.config.subdistrict.timezone, plan.media, uploader)
    plan.senders["wechat-sender"] = _sender(app, plan, transport)
    plan.receivers["wechat-intake"] = wechat_leftovers(app, plan, intake)
    plan.closers.append(intake.drain)
    plan.needs_http = True
    log.info("WeChat channel configured (%s mode, callback %s)", wechat.security.value, wechat.callback_path)
    if wechat.security is WeChatSecurity.PLAIN:
        log.warning("WeChat plain mode: callbacks are neither encrypted nor signed over their body;"
                    " for local trials only, use safe mode with a real account")
    return intake


def plan_wecom(app: App, settings: Settings, plan: Plan, session: aiohttp.ClientSession) -> None:
    transport = WeComTransport(session, app.config.wecom, settings.wecom_robot_keys)
    plan.senders["wecom-sender"] = _sender(app, plan, transport)
    log.info("WeCom robots configured: %d", len(settings.wecom_robot_keys))


async def sync_robots(app: App, settings: Settings) -> None:
    """Robots are announcement targets; one without a key in the environment stays disabled."""
    robots = [(r.id, r.name, r.community, r.grid, r.id in settings.wecom_robot_keys)
              for r in app.config.wecom.robots]
    async with app.db.transaction() as conn:
        await groups.sync_robots(conn, robots, app.clock.now())


def plan_scheduler(app: App, settings: Settings, plan: Plan) -> None:
    scheduler = build_scheduler(app)

    async def start() -> None:
        await sync_robots(app, settings)
        await scheduler.start()

    plan.after_start.append(start)
    plan.closers.insert(0, scheduler.stop)


async def run_channels(app: App, settings: Settings, stop: asyncio.Event,
                       limits: ChatRateLimits | None = None, http: HttpServer | None = None,
                       supervisor: Supervisor | None = None) -> None:
    """Run every configured channel until `stop`. Each loop runs under the supervisor: one that
    fails is restarted and the others go on; one with a configuration error stays stopped (and
    /healthz answers 503) while the others keep serving."""
    server = http or HttpServer(app.config.http)
    supervisor = supervisor or Supervisor(app.clock, is_fatal=config_error)
    server.health = supervisor.report
    session = aiohttp.ClientSession()
    plan = Plan()
    if app.db.engine is not StorageEngine.SQLITE:
        plan.lease_db = await app.db.companion()
        plan.closers.append(plan.lease_db.close)
    with_web_photos(plan.media, app.db)  # 办结 photos uploaded in the workplace, for every transport
    tasks: dict[str, asyncio.Task] = {}
    try:
        if settings.telegram_token:
            plan_telegram(app, settings, plan, server, limits)
        if wechat_enabled(settings, app.config):
            plan_wechat(app, settings, plan, server, session)
        if settings.wecom_robot_keys:
            plan_wecom(app, settings, plan, session)
        plan_scheduler(app, settings, plan)
        # The staff workplace (/staff/) is always served; the server is started for it too.
        mount_workplace(server, app, media=plan.media)
        await end_stale_sessions(app)
        await _dashboard_ready(app)
        await start_http(server, required=plan.needs_http or server.settings.health)
        for step in plan.after_start:
            await step()
        for name, loop in {**plan.senders, **plan.receivers}.items():
            tasks[name] = asyncio.create_task(supervisor.run(name, loop, stop), name=name)
        await stop.wait()
    finally:
        stop.set()
        await server.stop()
        await _wind_down(plan, tasks)
        for close in plan.closers:
            with contextlib.suppress(Exception):
                await close()
        await session.close()


async def _dashboard_ready(app: App) -> None:
    """The 三率 dashboard's stored durations brought up to date before anything is served (once
    after an upgrade that is seconds of work, which would otherwise hold up a request)."""
    started = time.monotonic()
    try:
        async with app.db.transaction() as conn:
            written = await write_work_at_start(conn, app.config)
    except Exception:  # the chat must not wait on a dashboard: its first request tries again
        log.exception("三率: office-hours durations not written at start; the dashboard writes them when opened")
        return
    if written:
        log.info("三率: office-hours durations written for %d tickets in %.1f s", written, time.monotonic() - started)


async def start_http(server: HttpServer, *, required: bool) -> bool:
    """Start the bot's HTTP server. When only the workplace needs it, a port already taken is
    logged and the channels run on without it (their loops must not wait on a browser page)."""
    try:
        await server.start()
    except OSError as exc:
        if required:
            raise
        log.error("workplace not served: cannot listen on %s:%d (%s); set http.port",
                  server.settings.host, server.settings.port, exc.strerror or type(exc).__name__)
        return False
    log.info("HTTP server listening on %s:%d (staff workplace at /staff/)", server.settings.host, server.port)
    return True


async def _wind_down(plan: Plan, tasks: dict[str, asyncio.Task]) -> None:
    """Cancel intake (its handling rolls back and is redone); let sends in flight be recorded."""
    receiving = [task for name, task in tasks.items() if name in plan.receivers]
    sending = [task for name, task in tasks.items() if name in plan.senders]
    for task in receiving:
        task.cancel()
    if sending:
        # A clean stop leaves no row 'sending', so nothing is wrongly marked uncertain later.
        _, late = await asyncio.wait(sending, timeout=SHUTDOWN_GRACE_SECONDS)
        if late:
            log.warning("outbox senders did not stop cleanly: %s", ", ".join(t.get_name() for t in late))
            for task in late:
                task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
