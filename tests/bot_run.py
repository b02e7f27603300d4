"""A bot running in the test's event loop (run_channels), stopped and closed together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.app import App


@dataclass
class BotRun:
    app: App
    stop: asyncio.Event
    task: asyncio.Task

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=10)
        await self.app.close()


def storage_section(folder: Path, url: str | None) -> dict[str, str | float]:
    """The `storage` section of a bot process's config.yaml: its SQLite file in `folder`, or the
    test's PostgreSQL database (the `pg_url` fixture) — `build_app` on that config then opens the
    same database the process uses, whichever the engine. On PostgreSQL a process restarted after
    a kill waits for the leases its predecessor held (the poller's, the sender's) to run out:
    6 s here rather than the default 30 s, as in tests/instances_harness.py."""
    if url is None:
        return {"database": str(folder / "bot.db")}
    return {"database": str(folder / "bot.db"), "url": url, "lease_seconds": 6}
