"""The event loop the long-running bot runs on: uvloop where it is installed, else asyncio's.

uvloop runs the same asyncio programs with its loop, transports and self-pipe wake-ups in C.
The bot spends a large share of each WeChat callback and Telegram update in exactly that
machinery (docs/benchmarks.md, "Stop 15"). uvloop has no Windows build, so there the standard
loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop if it can be imported; None means asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
