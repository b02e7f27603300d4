"""Counts the bot's round trips to aiosqlite's thread, per calling site (benchmarks only).

Imported by bench/bot_counted.py, never by the bot. Every hand-off to the database thread goes
through an aiosqlite connection's `_execute` (its `execute`, `execute_fetchall`, a cursor's
fetches, and storage/pipeline.py's trips carrying held writes); each is counted under the first
function outside aiosqlite, storage/db.py and storage/pipeline.py that asked for it
(`record_interaction`, `_run_held` for a unit's held writes, `transaction` for BEGIN/COMMIT ...). On SIGUSR1 the process
writes its totals so far to stderr as one `DBTRIPS {json}` line, so a driver can take them
before and after its measured phase and count the phase's trips alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite

_counts: Counter[str] = Counter()
_SKIP = ("aiosqlite", "storage/db.py", "storage/pipeline.py", "contextlib", "bench/db_trips.py")


def _site() -> str:
    frame = sys._getframe(2)
    while frame is not None and any(part in frame.f_code.co_filename for part in _SKIP):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_code.co_name}"


def _counted(original: Callable[..., Any]) -> Callable[..., Any]:
    def counted(self: aiosqlite.Connection, *args: Any, **kwargs: Any) -> Any:
        _counts[_site()] += 1
        return original(self, *args, **kwargs)
    return counted


def _dump(*_: object) -> None:
    print("DBTRIPS " + json.dumps(dict(_counts), ensure_ascii=False), file=sys.stderr, flush=True)


def parse(log_text: str) -> list[Counter[str]]:
    """Every DBTRIPS snapshot in a log, in order."""
    return [Counter(json.loads(line.split(" ", 1)[1])) for line in log_text.splitlines()
            if line.startswith("DBTRIPS ")]


def install() -> None:
    aiosqlite.Connection._execute = _counted(aiosqlite.Connection._execute)
    signal.signal(signal.SIGUSR1, _dump)


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


async def snapshot(pid: int, log: Path, timeout: float = 10.0) -> Counter[str]:  # noqa: ASYNC109
    """Ask a counting bot (pid, writing to `log`) for its totals so far and wait for them."""
    before = len(parse(_read(log)))
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = parse(_read(log))
        if len(found) > before:
            return found[-1]
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no DBTRIPS line from {pid} in {log}")


def report(before: Counter[str], after: Counter[str], callbacks: int, top: int = 14) -> list[str]:
    """Lines: trips per callback in total and for the busiest sites."""
    phase = after - before
    total = sum(phase.values())
    lines = [f"database trips: {total} for {callbacks} callbacks = {total / callbacks:.2f} per callback"]
    lines += [f"  {count / callbacks:6.2f}  {site}" for site, count in phase.most_common(top)]
    return lines
