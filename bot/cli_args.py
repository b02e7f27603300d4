"""The command line's grammar: global options (before or after the subcommand) and subcommands,
each with a `--help` that says what it does."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bot.config import DEFAULT_CONFIG

PROG = "fengshan-bot"
CONSOLE_HELP = "use the console's database (data/fengshan-console.db) instead of the real one"


@dataclass(frozen=True)
class Parsers:
    main: argparse.ArgumentParser
    commands: dict[str, argparse.ArgumentParser]


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    # On a subcommand the defaults are SUPPRESS, so an option given before the subcommand is
    # not reset by the subcommand's own (absent) copy of it.
    parser.add_argument("--config", default=default,
                        help=f"config file (default: $BOT_CONFIG or {DEFAULT_CONFIG})")
    parser.add_argument("--database", default=default,
                        help="SQLite file (default: storage.database in the config); its folder must exist")
    parser.add_argument("--log-level", default=default,
                        help="DEBUG, INFO (default, or $LOG_LEVEL), WARNING, ERROR or CRITICAL")


def build_parsers() -> Parsers:
    parser = argparse.ArgumentParser(prog=PROG, description="微丰山 chat-bot")
    _global_options(parser, None)
    shared = argparse.ArgumentParser(add_help=False)
    _global_options(shared, argparse.SUPPRESS)
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, argparse.ArgumentParser] = {}

    def add(name: str, summary: str, details: str = "") -> argparse.ArgumentParser:
        command = subcommands.add_parser(name, help=summary, parents=[shared],
                                         description=f"{summary}. {details}".strip())
        commands[name] = command
        return command

    add("run", "Run the bot on every configured channel (Telegram, the WeChat account, WeCom robots)",
        "With none configured it opens the console.")
    console = add("console", "Talk to the bot in this terminal, as a resident or a staff member",
                  "It keeps its own database beside the real one and logs to a file beside it.")
    console.add_argument("--as", dest="identity", default="resident:居民",
                         help="resident:<name>, leader:<grid>, guide:<grid>, admin, or a person id")
    invite = add("invite", "Print a one-time code that binds a chat account to a staff member",
                 "Give --grid (with --role) or --person. The code is valid for 7 days.")
    invite.add_argument("--grid", help="grid id, e.g. G07")
    invite.add_argument("--role", default="leader", choices=["leader", "guide", "worker"])
    invite.add_argument("--person", help="a person id from the config (instead of --grid/--role)")
    invite.add_argument("--console", action="store_true", help=CONSOLE_HELP + " (bind with /bind there)")
    web_login = add("web-login", "Print a one-time sign-in link to the staff workplace (/staff/) for a person",
                    "Valid for 10 minutes, used once; built on http.public_url (default http://host:port).")
    web_login.add_argument("--person", required=True, help="a person id from the config, e.g. the first admin")
    web_login.add_argument("--console", action="store_true", help=CONSOLE_HELP)
    add("check-config", "Validate the config and the environment's secrets, then exit",
        "Lists every problem found, one a line; exit code 2 when there is any.")
    menu = add("wechat-menu", "Print the WeChat custom menu JSON built from the config's menus",
               "Checked against WeChat's limits; --push replaces the account's menu.")
    menu.add_argument("--push", action="store_true",
                      help="replace the official account's menu (needs wechat.app_id and WECHAT_APP_SECRET)")
    stats = add("stats", "Print the 三率 (response / resolution / satisfaction rates)",
                "The same figures as /stats in chat.")
    stats.add_argument("--scope", help="a grid id (G07), a community id (longchi) or all (default)")
    stats.add_argument("--period", help="week, month (default), year, day, 2026-10 or 2026")
    stats.add_argument("--console", action="store_true", help=CONSOLE_HELP)
    announce = add("announce", "Schedule an announcement to the bound groups",
                   "The running bot sends it on time.")
    announce.add_argument("--text", required=True)
    announce.add_argument("--target", default="all", help="all, a community id (longchi) or a grid id (G07)")
    announce.add_argument("--when", required=True, help="「明天 09:00」, 「12-06 09:00」, 「每周六 08:00」, 立即, or cron")
    announce.add_argument("--signup", help="places and activity start, e.g. \"30 12-06 09:00\"")
    announce.add_argument("--console", action="store_true", help=CONSOLE_HELP)
    listing = add("announcements", "List the announcements with their deliveries, or cancel one")
    listing.add_argument("--cancel", type=int, metavar="ID", help="cancel a scheduled announcement")
    listing.add_argument("--console", action="store_true", help=CONSOLE_HELP)
    backup = add("backup", "Copy the database to PATH while the bot runs (online), then verify the copy",
                 "PATH must be a new file in an existing folder.")
    backup.add_argument("path", type=Path)
    restore = add("restore", "Replace the database with a verified backup (stop the bot first)",
                  "The current database is saved beside it first.")
    restore.add_argument("path", type=Path)
    move = add("move-to-postgres", "Copy the SQLite database into an empty PostgreSQL database (stop the bot first)",
               "Applies the migrations, copies every table and compares the row counts; the password "
               "comes from FENGSHAN_DB_PASSWORD.")
    move.add_argument("--from", dest="source", type=Path,
                      help="the SQLite file (default: storage.database in the config)")
    move.add_argument("--to", dest="target", help="postgresql://user@host:port/database (default: storage.url)")
    return Parsers(parser, commands)
