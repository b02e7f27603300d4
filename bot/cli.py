"""The command line: run, console, invite, check-config, wechat-menu, stats, announce, announcements,
backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from bot.settings import Settings, load_settings

EXIT_FAILED = 1
EXIT_CONFIG = 2
_SECRET_PARAMS = re.compile(r"(access_token|secret)=[^&\s'\"]+")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fengshan-bot", description="微丰山 chat-bot")
    parser.add_argument("--config", help=f"config file (default: $BOT_CONFIG or {DEFAULT_CONFIG})")
    parser.add_argument("--database", help="SQLite file (default: storage.database in the config)")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (Telegram if TELEGRAM_BOT_TOKEN is set, else console)")
    console = commands.add_parser("console", help="talk to the bot in this terminal")
    console.add_argument("--as", dest="identity", default="resident:居民",
                         help="resident:<name>, leader:<grid>, guide:<grid>, admin, or a person id")
    invite = commands.add_parser("invite", help="print a one-time code that binds a chat account")
    invite.add_argument("--grid", help="grid id, e.g. G07")
    invite.add_argument("--role", default="leader", choices=["leader", "guide", "worker"])
    invite.add_argument("--person", help="a person id from the config (instead of --grid/--role)")
    commands.add_parser("check-config", help="validate the config and exit")
    menu = commands.add_parser("wechat-menu", help="print the WeChat custom menu JSON built from the config")
    menu.add_argument("--push", action="store_true",
                      help="replace the official account's menu (needs wechat.app_id and WECHAT_APP_SECRET)")
    stats = commands.add_parser("stats", help="print the 三率 (response / resolution / satisfaction rates)")
    stats.add_argument("--scope", help="a grid id (G07), a community id (longchi) or all (default)")
    stats.add_argument("--period", help="week, month (default), year, day, 2026-10 or 2026")
    announce = commands.add_parser("announce", help="schedule an announcement to the bound groups")
    announce.add_argument("--text", required=True)
    announce.add_argument("--target", default="all", help="all, a community id (longchi) or a grid id (G07)")
    announce.add_argument("--when", required=True, help="「明天 09:00」, 「12-06 09:00」, 「每周六 08:00」, 立即, or cron")
    announce.add_argument("--signup", help="places and activity start, e.g. \"30 12-06 09:00\"")
    listing = commands.add_parser("announcements", help="list announcements with their deliveries")
    listing.add_argument("--cancel", type=int, metavar="ID", help="cancel a scheduled announcement")
    backup = commands.add_parser("backup", help="copy the database to PATH while the bot runs (online)")
    backup.add_argument("path", type=Path)
    restore = commands.add_parser("restore", help="replace the database with a backup (stop the bot first)")
    restore.add_argument("path", type=Path)
    return parser


def config_path(args: argparse.Namespace, environ: dict[str, str]) -> Path:
    return Path(args.config or environ.get("BOT_CONFIG") or DEFAULT_CONFIG)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Never log request URLs: they contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    path = config_path(args, environ)
    try:
        config = load_config(path)
        settings = load_settings(environ, config)
    except ConfigError as exc:
        print(f"配置错误 config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    command = args.command or "run"
    if command == "check-config":
        print(f"{path}: OK ({len(config.grids)} grids, {len(config.communities)} communities)")
        return 0
    database = Path(args.database) if args.database else None
    if command == "wechat-menu":
        return wechat_menu(config, path, database, settings, args.push)
    if command in ("backup", "restore"):
        from bot.app import database_path
        from bot.cli_backup import backup_command, restore_command

        live = database or database_path(config, path)
        return backup_command(live, args.path) if command == "backup" else restore_command(args.path, live)
    if command == "stats":
        return stats_command(config, path, database, args.scope, args.period)
    if command in ("announce", "announcements"):
        from bot import cli_announce

        if command == "announce":
            return asyncio.run(cli_announce.announce(config, path, database, args.text, args.target, args.when,
                                                     args.signup))
        return asyncio.run(cli_announce.announcements(config, path, database, args.cancel))
    from bot.runtime import run_bot, run_console, run_invite

    try:
        if command == "invite":
            return asyncio.run(run_invite(config, path, database, args.grid, args.role, args.person))
        if command == "console":
            return asyncio.run(run_console(config, path, database, args.identity))
        return asyncio.run(run_bot(config, path, database, settings))
    except KeyboardInterrupt:
        return 130


def _redact(text: str, secret: str) -> str:
    """An error message without the app secret or any access token in a URL."""
    text = _SECRET_PARAMS.sub(r"\1=***", text)
    return text.replace(secret, "***") if secret else text


def wechat_menu(config: Config, config_file: Path, database: Path | None, settings: Settings,
                push: bool) -> int:
    """Print the custom menu as JSON, or push it to WeChat with --push."""
    from bot.channels.wechat_menu import build_menu, validate_menu

    menu = build_menu(config)
    problems = validate_menu(menu)
    if problems:
        print("微信自定义菜单不符合限制 invalid WeChat menu:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if not push:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    missing = [name for name, value in (("wechat.app_id in the config", config.wechat.app_id),
                                        ("WECHAT_APP_SECRET in the environment",
                                         settings.wechat_app_secret)) if not value]
    if missing:
        print(f"wechat-menu --push: needs {' and '.join(missing)}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(_push_wechat_menu(config, config_file, database, settings, menu))


async def _push_wechat_menu(config: Config, config_file: Path, database: Path | None,
                            settings: Settings, menu: dict) -> int:
    import sqlite3

    import aiohttp

    from bot.app import database_path
    from bot.channels.wechat_api import WeChatAPI, WeChatError, WeChatHttpError
    from bot.channels.wechat_menu import push_menu, summarize_menu
    from storage.clock import SystemClock
    from storage.db import Database

    clock = SystemClock()
    # The bot's own database: the access token is shared with the running bot, not replaced.
    db_file = database or database_path(config, config_file)
    try:
        db = await Database.open(db_file, clock)
    except (OSError, sqlite3.Error) as exc:
        print(f"推送失败 cannot open the database {db_file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        async with aiohttp.ClientSession() as session:
            api = WeChatAPI(session, db, clock, config.wechat.api_base_url, config.wechat.app_id,
                            settings.wechat_app_secret, config.wechat.timeout)
            await push_menu(api, menu)
    except WeChatError as exc:
        print(f"推送失败 WeChat error {_redact(str(exc), settings.wechat_app_secret)}", file=sys.stderr)
        return EXIT_FAILED
    except WeChatHttpError as exc:
        print(f"推送失败 WeChat answered {_redact(str(exc), settings.wechat_app_secret)}", file=sys.stderr)
        return EXIT_FAILED
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = _redact(str(exc), settings.wechat_app_secret) or type(exc).__name__
        print(f"推送失败 cannot reach {config.wechat.api_base_url}: {reason}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await db.close()
    print("已推送自定义菜单")
    print(summarize_menu(menu))
    return 0



def stats_command(config: Config, config_file: Path, database: Path | None, scope_text: str | None,
                  period_text: str | None) -> int:
    """Print the 三率 of a scope and period, as /stats shows them to an admin."""
    from bot.app import build_app, database_path
    from handlers.stats import parse_period, parse_scope, stats_text
    from storage.clock import SystemClock
    from storage.periods import period_for
    from storage.stats import SUBDISTRICT

    clock = SystemClock()
    now = clock.now()
    tz = config.subdistrict.timezone
    scope = parse_scope(config, scope_text) if scope_text else SUBDISTRICT
    period = parse_period(period_text, now, tz) if period_text else period_for("month", now, tz)
    if scope is None:
        print(f"unknown scope {scope_text!r}: use a grid id (G07), a community id (longchi) or all",
              file=sys.stderr)
        return EXIT_CONFIG
    if period is None:
        print(f"unknown period {period_text!r}: use week, month, year, day, 2026-10 or 2026", file=sys.stderr)
        return EXIT_CONFIG

    async def report() -> str:
        app = await build_app(config, clock, database or database_path(config, config_file))
        try:
            # A write transaction: the rates first fold new events into ticket_rate_facts.
            async with app.db.transaction() as conn:
                return await stats_text(conn, app.services, now, scope, period)
        finally:
            await app.close()

    print(asyncio.run(report()))
    return 0
