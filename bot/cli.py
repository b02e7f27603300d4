"""The command line: run, console, invite, web-login, check-config, wechat-menu, stats, announce,
announcements, backup, restore, move-to-postgres."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import event_loop
from bot.cli_args import build_parsers
from bot.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from bot.logging_setup import LEVELS, parse_level
from bot.logging_setup import configure as configure_logging
from bot.settings import Settings, load_settings

EXIT_FAILED = 1
EXIT_CONFIG = 2
_SECRET_PARAMS = re.compile(r"(access_token|secret)=[^&\s'\"]+")
# Commands that open (and may create) the database; its configured folder is made for them.
OPENS_DATABASE = frozenset({"run", "console", "invite", "web-login", "stats", "announce", "announcements",
                            "restore"})


def main(argv: Sequence[str] | None = None) -> int:
    """The console script's entry point; returns the exit code."""
    try:
        code = _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`fengshan-bot announcements | head -1`): nothing left to say.
        _drop_stdout()
        return EXIT_FAILED
    return code


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def config_path(args: argparse.Namespace, environ: dict[str, str]) -> Path:
    return Path(args.config or environ.get("BOT_CONFIG") or DEFAULT_CONFIG)


def _usage_error(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_CONFIG


def _main(argv: Sequence[str] | None) -> int:
    parsers = build_parsers()
    try:
        args = parsers.main.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    environ = dict(os.environ)
    level_text = args.log_level or environ.get("LOG_LEVEL") or "INFO"
    level = parse_level(level_text)
    if level is None:
        source = "--log-level" if args.log_level else "LOG_LEVEL"
        return _usage_error(f"{source} {level_text!r}: use {', '.join(LEVELS[:-1])} or {LEVELS[-1]}")
    configure_logging(level)
    command = args.command or "run"
    if command == "invite" and not (args.grid or args.person):
        parsers.commands["invite"].print_usage(sys.stderr)
        return _usage_error("invite: give --grid G07 (with --role leader, guide or worker) or --person ID")
    path = config_path(args, environ)
    try:
        config = load_config(path)
        settings = load_settings(environ, config)
    except ConfigError as exc:
        problems = exc.problems
        if not path.exists():
            problems = (f"{path}: no such file; give the config file with --config PATH or the "
                        "BOT_CONFIG environment variable (用 --config 或 BOT_CONFIG 指定配置文件)",)
        for problem in problems:
            print(f"配置错误 config error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if command == "check-config":
        print(f"{path}: OK ({len(config.grids)} grids, {len(config.communities)} communities)")
        return 0
    database = _database(args, config, path, command)
    if database is None:
        return EXIT_CONFIG
    return _dispatch(command, args, config, path, database, settings)


def _database(args: argparse.Namespace, config: Config, config_file: Path, command: str) -> Path | None:
    """The database file this command works on; None after saying why it cannot be used.

    A folder typed with --database (or a backup target) is never created: a typo would
    silently start an empty database. The folder of the configured storage.database (data/ on
    a first start) is created, and the operator is told.
    """
    from bot.bootstrap import database_path

    if args.database is None:
        database = database_path(config, config_file)
        opens = command in OPENS_DATABASE or (command == "wechat-menu" and args.push)
        if opens and not database.parent.exists():
            database.parent.mkdir(parents=True)
            print(f"已创建数据文件夹 created folder {database.parent} (storage.database)", file=sys.stderr)
        return database
    database = Path(args.database)
    if database.is_dir():
        _usage_error(f"--database {database} is a folder; give a file in it, e.g. {database / 'fengshan.db'}")
        return None
    if not database.parent.is_dir():
        _usage_error(f"--database {database}: folder {database.parent} does not exist; "
                     "check the path or create the folder first")
        return None
    return database


def _dispatch(command: str, args: argparse.Namespace, config: Config, path: Path, database: Path,
              settings: Settings) -> int:
    from bot.runtime import console_config, console_database, run_bot, run_console, run_invite

    if getattr(args, "console", False):
        database = console_database(config, path, database)
        config = console_config(config)
    if command == "wechat-menu":
        return wechat_menu(config, database, settings, args.push)
    if command == "move-to-postgres":
        from bot.cli_move import move_command

        return move_command(args.source or database, args.target or config.storage.url)
    if command in ("backup", "restore") and config.storage.url:
        print(f"{command} copies the SQLite file; with storage.url (PostgreSQL) use pg_dump / pg_restore"
              " 请用 pg_dump / pg_restore 备份和恢复 PostgreSQL", file=sys.stderr)
        return 2
    if command in ("backup", "restore"):
        from bot.cli_backup import backup_command, restore_command

        if command == "backup":
            return backup_command(database, args.path)
        return restore_command(args.path, database)
    if command == "web-login":
        return asyncio.run(web_login(config, database, args.person))
    if command == "stats":
        return stats_command(config, database, args.scope, args.period)
    if command in ("announce", "announcements"):
        from bot import cli_announce

        if command == "announce":
            return asyncio.run(cli_announce.announce(config, database, args.text, args.target, args.when,
                                                     args.signup))
        return asyncio.run(cli_announce.announcements(config, database, args.cancel))
    try:
        if command == "invite":
            return asyncio.run(run_invite(config, database, args.grid, args.role, args.person,
                                          console=args.console))
        if command == "console":
            return asyncio.run(run_console(config, path, database, args.identity))
        return event_loop.run(run_bot(config, path, database, settings))
    except KeyboardInterrupt:
        return 130


def _redact(text: str, secret: str) -> str:
    """An error message without the app secret or any access token in a URL."""
    text = _SECRET_PARAMS.sub(r"\1=***", text)
    return text.replace(secret, "***") if secret else text


def wechat_menu(config: Config, database: Path, settings: Settings, push: bool) -> int:
    """Print the custom menu as JSON, or push it to WeChat with --push."""
    from bot.channels.wechat.menu import build_menu, validate_menu

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
    return asyncio.run(_push_wechat_menu(config, database, settings, menu))


async def _push_wechat_menu(config: Config, db_file: Path, settings: Settings, menu: dict) -> int:
    import aiohttp

    from bot.bootstrap import open_storage
    from bot.channels.wechat.api import WeChatAPI, WeChatError, WeChatHttpError
    from bot.channels.wechat.menu import push_menu, summarize_menu
    from storage.clock import SystemClock
    from storage.engine import database_errors

    clock = SystemClock()
    # The bot's own database: the access token is shared with the running bot, not replaced.
    try:
        db = await open_storage(config.storage.url or db_file, clock)
    except (OSError, *database_errors()) as exc:
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


def stats_command(config: Config, database: Path, scope_text: str | None, period_text: str | None) -> int:
    """Print the 三率 of a scope and period, as /stats shows them to an admin."""
    from bot.bootstrap import build_app
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
        app = await build_app(config, clock, database)
        try:
            # A write transaction: the rates first fold new events into ticket_rate_facts.
            async with app.db.transaction() as conn:
                return await stats_text(conn, app.services, now, scope, period)
        finally:
            await app.close()

    print(asyncio.run(report()))
    return 0


async def web_login(config: Config, database: Path, person_id: str) -> int:
    """A one-time sign-in link to the workplace for `person_id` (the first admin on a new
    install): what 「工作台」 sends in chat, printed here."""
    from bot.bootstrap import build_app
    from handlers.staff_link import LINK_VALID_FOR, sign_in_url
    from storage import web_sessions
    from storage.clock import SystemClock

    known = {p.id: p.name for p, _, _, _ in config.all_people()}
    if person_id not in known:
        print(f"unknown person {person_id!r}; admins: {', '.join(a.id for a in config.admins)}", file=sys.stderr)
        return EXIT_CONFIG
    app = await build_app(config, SystemClock(), database)
    try:
        async with app.db.transaction() as conn:
            token = await web_sessions.create_link(conn, person_id, app.clock.now(), LINK_VALID_FOR)
    finally:
        await app.close()
    minutes = int(LINK_VALID_FOR.total_seconds() // 60)
    print(f"工作台登录链接 workplace sign-in link for {known[person_id]} ({person_id}):")
    print(sign_in_url(config.http.base_url(), token))
    print(f"{minutes} 分钟内有效，仅可使用一次 valid for {minutes} minutes, single use")
    return 0
