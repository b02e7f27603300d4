"""The bench driver's side of bench/fake_telegram_server.py: start it, push updates, read what was sent."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import ROOT, free_port

TOKEN = "123456:BENCH"


class FakeClient:
    """HTTP client of the fake's control API (the fake runs in another process)."""

    def __init__(self, url: str, session: aiohttp.ClientSession, pid: int = 0) -> None:
        self.url = url
        self.pid = pid  # the fake's process, for CPU accounting
        self.session = session
        self.seen = 0  # index of the next sent message `sent()` returns

    @property
    def bot_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def push(self, updates: list[dict[str, Any]]) -> dict[str, Any]:
        async with self.session.post(f"{self.url}/control/push", json={"updates": updates}) as response:
            response.raise_for_status()
            return await response.json()

    async def sent(self, timeout: float = 1.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Messages sent since the last call, waiting up to `timeout` for at least one."""
        params = {"after": str(self.seen), "timeout": str(timeout)}
        async with self.session.get(f"{self.url}/control/sent", params=params) as response:
            messages = (await response.json())["messages"]
        self.seen += len(messages)
        return messages

    async def stats(self, text: str = "") -> dict[str, Any]:
        async with self.session.get(f"{self.url}/control/stats", params={"text": text}) as response:
            return await response.json()

    async def configure(self, **values: float) -> None:
        async with self.session.post(f"{self.url}/control/config", json=values) as response:
            response.raise_for_status()

    async def wait_until(self, key: str, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Poll the stats until `key` is truthy (e.g. commands_set: the bot finished starting)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            stats = await self.stats()
            if stats.get(key):
                return stats
            await asyncio.sleep(0.05)
        raise TimeoutError(f"fake Bot API: {key} not seen within {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def fake_server(log: Path, *flags: str) -> AsyncIterator[FakeClient]:
    """Run bench.fake_telegram_server in its own process until the block ends."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fake_telegram_server", "--port", str(port), "--token", TOKEN, *flags,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=log.open("ab"))
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        if not line.startswith(b"READY "):
            raise RuntimeError(f"fake Bot API did not start (see {log})")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            yield FakeClient(line.decode().split()[1], session, proc.pid)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
