"""Several bot processes on one PostgreSQL database (tests/e2e/test_several_instances.py): each a
real `python -m bot run` with its own config (HTTP port, Telegram mode) and log file, what each
chat received indexed as the fake Bot API records it, and who holds a lease."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from bot.bootstrap import build_app
from bot.config import load_config
from storage import leases
from storage.clock import SystemClock
from tests.conftest import ROOT
from tests.fakes.telegram_api import FakeTelegramAPI, SentMessage

SECRET = "several-instances_0123456789"
LEASE_SECONDS = 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(fake: FakeTelegramAPI, folder: Path, url: str, port: int, mode: str) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["telegram"] = {"base_url": f"{fake.url}/bot", "base_file_url": fake.file_url,
                        "bot_username": fake.bot_username, "poll_timeout": 1, "mode": mode}
    if mode == "webhook":
        data["telegram"]["webhook_public_url"] = "https://bot.example.org/telegram/webhook"
    data["storage"] = {"database": str(folder / "unused.db"), "url": url, "lease_seconds": LEASE_SECONDS}
    data["http"] = {"host": "127.0.0.1", "port": port, "health": True}
    path = folder / f"config-{port}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Instance:
    config: Path
    port: int
    process: asyncio.subprocess.Process | None = None

    async def start(self, token: str) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_WEBHOOK_SECRET": SECRET}
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config), "run", env=env, cwd=str(ROOT),
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    @property
    def log(self) -> Path:
        return self.config.with_suffix(".log")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(900):  # a loaded machine takes its time to start three processes
            try:
                async with session.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"instance on port {self.port} never became healthy")

    async def end(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class Inboxes:
    """What each chat received, indexed as it arrives (one scan of the fake's list for all)."""

    fake: FakeTelegramAPI
    chats: dict[int, list[SentMessage]] = field(default_factory=lambda: defaultdict(list))
    changed: dict[int, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    seen: int = 0

    async def follow(self) -> None:
        while True:
            fresh, self.seen = self.fake.sent[self.seen:], len(self.fake.sent)
            for message in fresh:
                self.chats[message.chat_id].append(message)
                self.changed[message.chat_id].set()
            await asyncio.sleep(0.02)

    async def wait(self, chat: int, contains: str, after: int, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """Index after the first message to `chat` past `after` that contains `contains`."""
        deadline = time.monotonic() + timeout
        while True:
            self.changed[chat].clear()  # before looking: a message indexed meanwhile sets it again
            for index, message in enumerate(self.chats[chat][after:], start=after):
                if contains in (message.text or ""):
                    return index + 1
            left = deadline - time.monotonic()
            if left <= 0:
                texts = [m.text for m in self.chats[chat]]
                raise AssertionError(f"chat {chat}: no {contains!r} within {timeout}s; got {texts}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed[chat].wait(), timeout=left)


async def lease_holder_pid(config: Path, name: str) -> int | None:
    app = await build_app(load_config(config), SystemClock(), config.parent / "unused.db")
    try:
        async with app.db.read() as conn:
            held = await leases.current(conn, name)
    finally:
        await app.close()
    if held is None or held.expires_at is None or held.expires_at < SystemClock().now():
        return None
    return int(held.holder.split(":")[1])


async def holder_of(instances: list[Instance], name: str) -> Instance:
    """The instance holding lease `name` (waiting while it is between holders)."""
    for _ in range(300):
        pid = await lease_holder_pid(instances[0].config, name)
        found = [i for i in instances if i.pid == pid]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"nobody holds {name}")
