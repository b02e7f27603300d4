"""Where the bot's time goes around its one database connection (imported by the bot runner on request).

Wraps storage.db.Database.transaction/read so that, per call site, the process logs at exit how
many transactions ran, how long they waited for the connection's lock and how long they held
it. Only bench/telegram_bot_runner.py --db-timing imports this; the bot itself never does.
"""

from __future__ import annotations

import atexit
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite

from storage.db import Database

_totals: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])  # count, waited, held, statements
_current: ContextVar[str] = ContextVar("site", default="outside a transaction")
_execute = aiosqlite.Connection.execute


def _counted(self: aiosqlite.Connection, *args: Any, **kwargs: Any) -> Any:
    _totals[_current.get()][3] += 1  # each statement is one round trip to aiosqlite's thread
    return _execute(self, *args, **kwargs)


def _site() -> str:
    frame, names = sys._getframe(3), []
    while frame is not None and len(names) < 2:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return "/".join(names)


def _timed(original: Callable[[Database], AsyncIterator[Any]], kind: str) -> Callable[..., Any]:
    inner = asynccontextmanager(original)

    @asynccontextmanager
    async def timed(self: Database) -> AsyncIterator[Any]:
        site, asked = f"{kind} {_site()}", time.perf_counter()
        async with inner(self) as conn:
            got = time.perf_counter()
            token = _current.set(site)
            try:
                yield conn
            finally:
                _current.reset(token)
                total = _totals[site]
                total[0] += 1
                total[1] += got - asked
                total[2] += time.perf_counter() - got
    return timed


def _report() -> None:
    for site, (count, waited, held, statements) in sorted(_totals.items(), key=lambda kv: -kv[1][1] - kv[1][2]):
        if waited + held >= 0.05:
            print(f"DBTIMING {site}: {int(count)} transactions ({statements / max(count, 1):.1f} statements each),"
                  f" waited {waited:.2f} s, held {held:.2f} s", file=sys.stderr)


aiosqlite.Connection.execute = _counted  # type: ignore[method-assign]
Database.transaction = _timed(Database.transaction.__wrapped__, "write")  # type: ignore[method-assign]
Database.read = _timed(Database.read.__wrapped__, "read")  # type: ignore[method-assign]
atexit.register(_report)
