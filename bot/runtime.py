"""Running the bot (every configured channel, or the console) and one-off commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import logging_setup
from bot.app import App
from bot.bootstrap import build_app, build_console, database_path
from bot.channels.console import resolve_identity, stdin_lines
from bot.config import Config
from bot.faults import CrashPoints
from bot.http_server import HttpServer
from bot.run_channels import run_channels, start_http
from bot.settings import Settings, wechat_enabled
from bot.web import mount_workplace
from bot.web.app import end_stale_sessions
from handlers.dispatcher import INVITE_VALID_FOR, create_invite
from handlers.staff_link import LINK_VALID_FOR, sign_in_url
from storage import web_sessions
from storage.clock import SystemClock

log = logging.getLogger(__name__)

# Operator-facing, as the console's own notes (bot/channels/console.py).
WORKPLACE_NOTE = ("工作台（网页）：{url}\n"
                  "以上是{name}的一次性登录链接（{minutes} 分钟内有效）；工作人员在对话中发送「工作台」也能获取。")
WORKPLACE_DOWN = "工作台未启动：{host}:{port} 已被占用（可在配置 http.port 中更换端口）。"


def console_database(config: Config, config_file: Path, database: Path | None) -> Path:
    """The console keeps its own database, so trying flows never touches real residents' data."""
    main = database or database_path(config, config_file)
    return main.with_name(f"{main.stem}-console{main.suffix}")


def console_config(config: Config) -> Config:
    """The config as the console uses it: never the PostgreSQL server of `storage.url` (the real
    residents' data), always its own SQLite file beside the configured one."""
    return config.model_copy(update={"storage": config.storage.model_copy(update={"url": None})})


def console_log(console_db: Path) -> Path:
    """The console's log file, beside its database: log lines never interleave with the chat."""
    return console_db.with_suffix(".log")


async def run_console(config: Config, config_file: Path, database: Path | None, identity: str) -> int:
    config = console_config(config)
    db_file = console_database(config, config_file, database)
    log_file = console_log(db_file)
    logging_setup.to_file(log_file)
    app = await build_app(config, SystemClock(), db_file)
    try:
        who = resolve_identity(app, identity)
        if who is None:
            print(f"unknown identity {identity!r}: use resident:<name>, leader:G01, guide:G01, admin",
                  file=sys.stderr)
            return 2
        channel = build_console(app, who, lambda text: print(text, flush=True), log_file)
        server = HttpServer(config.http)
        mount_workplace(server, app)
        await end_stale_sessions(app)
        try:
            channel.notes.append(await _workplace_note(app, server))
            await channel.run(stdin_lines())
        finally:
            await server.stop()
        return 0
    finally:
        await app.close()


async def _workplace_note(app: App, server: HttpServer) -> str:
    """Start the workplace on the console's database; a one-time sign-in link for the first
    admin, so a newcomer sees the web side at once (or why it is not there)."""
    if not await start_http(server, required=False):
        return WORKPLACE_DOWN.format(host=server.settings.host, port=server.settings.port)
    admin = app.config.admins[0]
    async with app.db.transaction() as conn:
        token = await web_sessions.create_link(conn, admin.id, app.clock.now(), LINK_VALID_FOR)
    base = server.settings.public_url or f"http://{server.settings.host}:{server.port}"
    minutes = int(LINK_VALID_FOR.total_seconds() // 60)
    return WORKPLACE_NOTE.format(name=admin.name, url=sign_in_url(base, token), minutes=minutes)


async def run_invite(config: Config, database: Path, grid_id: str | None, role: str, person_id: str | None,
                     console: bool = False) -> int:
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
    app = await build_app(config, SystemClock(), database)
    try:
        now = app.clock.now()
        async with app.db.transaction() as conn:
            code = await create_invite(conn, person_id, now)
    finally:
        await app.close()
    tz = config.subdistrict.timezone
    expires = (now + INVITE_VALID_FOR).astimezone(ZoneInfo(tz))
    print(f"邀请码 invite code for {known[person_id]} ({person_id}): {code}")
    print(f"有效期至 valid until {expires:%Y-%m-%d %H:%M} ({tz}), 仅可使用一次 single use")
    if console:
        print(f"控制台 console: /bind {code}   (数据库 database {database})")
    else:
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


def any_channel_configured(config: Config, settings: Settings) -> bool:
    return bool(settings.telegram_token or wechat_enabled(settings, config))


async def run_bot(config: Config, config_file: Path, database: Path | None, settings: Settings) -> int:
    if not any_channel_configured(config, settings):
        print("未配置 TELEGRAM_BOT_TOKEN 或微信公众号，打开控制台频道（console channel）。", file=sys.stderr)
        return await run_console(config, config_file, database, "resident:居民")
    app = await build_app(config, SystemClock(), database or database_path(config, config_file),
                          CrashPoints.from_env(os.environ))
    stop = asyncio.Event()
    _stop_on_signals(stop)
    try:
        await run_channels(app, settings, stop)
    finally:
        await app.close()
    return 0
