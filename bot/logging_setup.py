"""Where the log goes and how much of it: the INFO log is for operators, not for libraries."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Routine chatter at INFO: APScheduler's "Running job"/"executed successfully" pair on every
# 30-second tick and its job-store lines, aiohttp's access log, PTB's start-up lines. Their
# warnings and errors still come through; with DEBUG the operator sees everything.
CHATTY = ("apscheduler", "aiohttp.access", "aiohttp.server", "aiohttp.web", "aiohttp.client",
          "telegram", "aiosqlite", "asyncpg", "asyncio", "wechatpy", "urllib3")
# Their request lines carry the bot token in the URL: never below WARNING, whatever the level.
SECRET_BEARING = ("httpx", "httpcore")


def parse_level(text: str) -> int | None:
    """The logging level named by `text` (any case), or None if it names none."""
    name = text.strip().upper()
    return logging.getLevelNamesMapping()[name] if name in LEVELS else None


def configure(level: int, log_file: Path | None = None) -> None:
    """One handler on the root logger: stderr, or `log_file` (the console keeps its terminal
    for the conversation). Called again, it replaces the previous handler."""
    handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if level <= logging.DEBUG else logging.WARNING)
    for name in SECRET_BEARING:
        logging.getLogger(name).setLevel(logging.WARNING)


def to_file(log_file: Path) -> None:
    """Keep the level, move the log into `log_file`."""
    configure(logging.getLogger().level, log_file)
