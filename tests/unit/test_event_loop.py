"""`bot run` runs on uvloop where it is installed (bot/event_loop.py)."""

import asyncio
import sys

import pytest

from bot import event_loop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build")
def test_the_bot_runs_on_uvloop() -> None:
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_a_coroutine_result_and_its_exception_come_back() -> None:
    async def fails() -> None:
        raise LookupError("from inside the loop")

    assert event_loop.run(asyncio.sleep(0, result=7)) == 7
    with pytest.raises(LookupError, match="from inside the loop"):
        event_loop.run(fails())
