"""Process plumbing the benchmarks share: free ports, a config for the bot, the bot's own process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table_row(name: str, measured: str, baseline: str, ratio: float, target: str, ok: bool) -> str:
    return f"| {name} | {measured} | {baseline} | {ratio:.2f} | {target} | {'✅' if ok else '❌'} |"


def write_config(work: Path, overrides: Mapping[str, Mapping[str, Any]]) -> Path:
    """The real config.yaml with some sections replaced (API base URLs, HTTP port, database)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    for section, values in overrides.items():
        config[section] = {**(config.get(section) or {}), **values}
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def bot_env(config: Path, secrets: Mapping[str, str]) -> dict[str, str]:
    """The environment of a bot process: only the given channel secrets, none inherited."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "WECHAT_", "WECOM_", "FENGSHAN_"))}
    env.update(secrets)
    env["BOT_CONFIG"] = str(config)
    env["PYTHONPATH"] = str(ROOT)
    return env


async def run_cli(env: Mapping[str, str], *args: str) -> str:
    """Run `python -m bot <args>` to completion; its stdout, or an error with its stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=dict(env), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bot {' '.join(args)} exited {proc.returncode}: {err.decode()[-2000:]}")
    return out.decode()


async def wait_healthy(url: str, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


class Process:
    """A child process stopped (SIGTERM, then SIGKILL) when the block ends."""

    def __init__(self, *argv: str, env: Mapping[str, str] | None = None, log: Path | None = None) -> None:
        self.argv = argv
        self.env = dict(env) if env is not None else None
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Process:
        output = self.log.open("ab") if self.log else asyncio.subprocess.DEVNULL
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, cwd=ROOT, stdout=output, stderr=output)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def bot_process(env: Mapping[str, str], log: Path, module: str | None = None) -> Process:
    """`python -m bot run` with the given environment, its output appended to `log`.

    With BENCH_PROFILE_BOT=FILE in the driver's environment the bot runs under cProfile and
    writes its profile to FILE when it stops. With BENCH_DB_TRIPS=1 it runs as bench.bot_counted,
    counting its database round trips (bench/db_trips.py; a driver reads them with trips_snapshot).
    `module`: another runner of `bot.cli.main` (bench.bot_floor)."""
    profile = os.environ.get("BENCH_PROFILE_BOT", "")
    wrapper = ("-m", "cProfile", "-o", profile) if profile else ()
    if module is None:
        module = "bench.bot_counted" if os.environ.get("BENCH_DB_TRIPS") else "bot"
    return Process(sys.executable, *wrapper, "-m", module, "run", env=env, log=log)


def rss_kib(pid: int) -> int:
    """Resident memory of a process on Linux (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def serve_until_stopped(app: web.Application, port: int) -> None:
    """Serve `app` on 127.0.0.1:port (0: any free port), print `READY <url>` for the driver,
    and run until SIGTERM or SIGINT: how every fake platform process in bench/ runs."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"READY http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
