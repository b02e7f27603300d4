"""A bot running in the test's event loop (run_channels), stopped and closed together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

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
