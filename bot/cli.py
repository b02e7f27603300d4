"""The command line: run, console, invite, check-config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import DEFAULT_CONFIG, ConfigError, load_config, load_settings

EXIT_CONFIG = 2


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
    from bot.runtime import run_bot, run_console, run_invite

    database = Path(args.database) if args.database else None
    try:
        if command == "invite":
            return asyncio.run(run_invite(config, path, database, args.grid, args.role, args.person))
        if command == "console":
            return asyncio.run(run_console(config, path, database, args.identity))
        return asyncio.run(run_bot(config, path, database, settings))
    except KeyboardInterrupt:
        return 130

