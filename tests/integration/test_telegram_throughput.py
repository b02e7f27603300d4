"""What the throughput benchmarks (bench/telegram_intake.py, bench/fanout.py) changed in the bot.

- The global Telegram limit is a sliding window counted until each call's answer, so no second
  at Telegram's end sees more than the limit (a leaky bucket sent up to twice the limit in a
  fan-out's first second and earned 429s); a message refused with 429 gives its slot back.
- Delivery marks (`sending`, then the outcome) of concurrent rows commit together.
- Answering a button's spinner does not hold up the handling of the next update.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.config import Config
from bot.ratelimit import SlidingWindow, refused
from storage.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.timer import FakeTimer, settle
from tests.telegram_harness import start_run

RESIDENT = 1001


async def _hold(window: SlidingWindow, timer: FakeTimer, log: list[tuple[float, float]], seconds: float,
                refuse: bool = False) -> None:
    async with window:
        start = timer.time()
        await timer.sleep(seconds)
        if refuse:
            refused()
    log.append((start, timer.time()))


async def _run_out(timer: FakeTimer, *holds: asyncio.Task) -> None:
    """Move the timer from one wake-up to the next until every hold is done."""
    await settle()
    while not all(hold.done() for hold in holds):
        wake = timer.next_wake()
        assert wake is not None, "a hold waits for something other than the timer"
        timer.advance_to(wake)
        await settle()


async def test_sliding_window_never_lets_more_than_the_limit_into_any_period() -> None:
    timer = FakeTimer()
    window = SlidingWindow(3, 0.3, timer)
    log: list[tuple[float, float]] = []
    await _run_out(timer, *(asyncio.create_task(_hold(window, timer, log, 0.02)) for _ in range(9)))
    starts = sorted(start for start, _ in log)
    ends = sorted(end for _, end in log)
    # The 4th call starts only a full period after the 1st call's answer, and so on.
    for k in range(3, 9):
        assert starts[k] >= ends[k - 3] + 0.3 - 1e-9
    assert starts[2] - starts[0] < 0.05  # the first three go at once


async def test_a_refused_message_gives_its_slot_back() -> None:
    timer = FakeTimer()
    window = SlidingWindow(2, 5.0, timer)
    log: list[tuple[float, float]] = []
    await _hold(window, timer, log, 0.0, refuse=True)
    await _hold(window, timer, log, 0.0, refuse=True)
    two = [asyncio.create_task(_hold(window, timer, log, 0.0)) for _ in range(2)]
    await settle()
    assert all(hold.done() for hold in two)  # both went without the timer moving at all
    third = asyncio.create_task(_hold(window, timer, log, 0.0))
    await settle()
    assert not third.done()  # two counted messages fill the 5-second window
    timer.advance(4.9)
    await settle()
    assert not third.done()
    timer.advance(0.1)
    await settle()
    assert third.done()


async def test_a_slow_callback_answer_does_not_delay_the_next_reply(
        config: Config, clock: FakeClock, tmp_path: Path) -> None:
    async with FakeTelegramAPI() as fake:
        run = await start_run(config, fake, clock, tmp_path / "tg.db")
        try:
            fake.delay_next("answerCallbackQuery", 3.0, times=5)
            mark = len(fake.sent)
            fake.push_text(RESIDENT, "/report")
            await run.reply_to(RESIDENT, "问题类别", after=mark)
            await run.press(RESIDENT, "水电维修")
            began = time.monotonic()
            await run.reply_to(RESIDENT, "描述问题", after=mark)
            fake.push_text(RESIDENT, "楼道灯坏了")
            await run.reply_to(RESIDENT, "哪个社区", after=mark)
            assert time.monotonic() - began < 2.0  # neither reply waited for the 3-second answer
            await fake.wait_for_call("answerCallbackQuery")
        finally:
            await run.close()
