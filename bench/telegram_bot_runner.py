"""`python -m bot run`, with the Telegram rate limits given on the command line (benchmarks only).

    PYTHONPATH=. .venv/bin/python -m bench.telegram_bot_runner --global-per-second 1000000 --private-burst 100000

The same start-up as bot/runtime.py's run_bot (config from BOT_CONFIG, secrets from the
environment, SIGTERM stops it cleanly), except that run_channels gets ChatRateLimits built from
the flags — as tests/telegram_harness.py does — so a benchmark can tell the cost of intake and
delivery apart from Telegram's flood limits, which the bot otherwise obeys by design.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import sys
from pathlib import Path

from bot import event_loop
from bot.bootstrap import build_app, database_path
from bot.config import load_config
from bot.faults import CrashPoints
from bot.ratelimit import GLOBAL_PER_SECOND, GROUP_PER_MINUTE, PRIVATE_BURST, ChatRateLimits
from bot.run_channels import run_channels
from bot.runtime import _stop_on_signals
from bot.settings import load_settings
from storage.clock import SystemClock


async def run(limits: ChatRateLimits) -> None:
    path = Path(os.environ["BOT_CONFIG"])
    config = load_config(path)
    settings = load_settings(dict(os.environ), config)
    app = await build_app(config, SystemClock(), database_path(config, path), CrashPoints.from_env(os.environ))
    stop = asyncio.Event()
    _stop_on_signals(stop)
    try:
        await run_channels(app, settings, stop, limits)
    finally:
        await app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--global-per-second", type=int, default=GLOBAL_PER_SECOND)
    parser.add_argument("--group-per-minute", type=int, default=GROUP_PER_MINUTE)
    parser.add_argument("--private-burst", type=int, default=PRIVATE_BURST)
    parser.add_argument("--profile", help="write a cProfile of the whole run to this file")
    parser.add_argument("--db-timing", action="store_true", help="log lock waits per transaction site at exit")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.db_timing:
        import bench.telegram_db_timing  # noqa: F401 - wraps the database for this process only
    limits = ChatRateLimits(args.global_per_second, args.group_per_minute, args.private_burst)
    if not args.profile:
        event_loop.run(run(limits))
        return
    profiler = cProfile.Profile()
    profiler.runcall(event_loop.run, run(limits))
    profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
