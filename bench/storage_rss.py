"""Resident memory of the real bot process (`python -m bot run`) on a given database.

Part of `python -m bench.storage_scale`. The bot talks Telegram to a fake Bot API running in
another process (bench/storage_fake_telegram.py); VmRSS is sampled once the bot has
registered its commands, polled, and had its scheduler's first pass (deadline sweep included).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, bot_env, bot_process, free_port, rss_kib, write_config

SETTLE_SECONDS = 3.0  # after the first getUpdates: the scheduler's first run_due has happened
SAMPLES = 6


async def _line(stream: asyncio.StreamReader, timeout: float) -> str:  # noqa: ASYNC109
    raw = await asyncio.wait_for(stream.readline(), timeout)
    if not raw:
        raise RuntimeError("the fake Telegram API exited")
    return raw.decode().strip()


async def bot_rss_kib(database: Path | None, timeout: float = 180.0) -> tuple[int, float]:  # noqa: ASYNC109
    """(peak VmRSS in KiB over a few samples, seconds until the bot polled) on a copy of `database`
    (None: an empty database, created by the bot's migrations)."""
    work = Path(tempfile.mkdtemp(prefix="bench-storage-rss-"))
    try:
        db_path = work / "bot.db"
        if database is not None:
            shutil.copyfile(database, db_path)  # the bot writes (sweeps at the real clock): not the cache
        fake = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.storage_fake_telegram", cwd=ROOT,
            env=bot_env(work / "none.yaml", {}), stdout=asyncio.subprocess.PIPE)
        assert fake.stdout is not None
        try:
            api = json.loads(await _line(fake.stdout, 30))
            config = write_config(work, {
                "telegram": {"base_url": f"{api['url']}/bot", "base_file_url": api["file_url"], "poll_timeout": 1},
                "http": {"host": "127.0.0.1", "port": free_port()},
                "storage": {"database": str(db_path)},
            })
            env = bot_env(config, {"TELEGRAM_BOT_TOKEN": api["token"]})
            loop = asyncio.get_running_loop()
            began = loop.time()
            async with bot_process(env, work / "bot.log") as bot:
                assert await _line(fake.stdout, timeout) == "commands"
                assert await _line(fake.stdout, timeout) == "polling"
                up = loop.time() - began
                samples = []
                for _ in range(SAMPLES):
                    await asyncio.sleep(SETTLE_SECONDS / SAMPLES)
                    samples.append(rss_kib(bot.pid))
            return max(samples), up
        finally:
            if fake.returncode is None:
                fake.terminate()
                await fake.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
