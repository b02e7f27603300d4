"""Issue 16, row 2: a WeChat callback's database work, statement by statement (safe mode, real
server). Each statement is a hand-off to the database thread, which costs more than the query:
the follower's window and last list come back from one statement, the passive reply is written
with the done-mark, the account's last_seen_at is written at most once a minute, and units
sharing a transaction are not released one by one. What a follower sees stays the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from storage.clock import FakeClock
from tests.chat import query
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import WeChatRun, start_wechat

RESIDENT = "oResident0000000000000001"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
              session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def traced(run: WeChatRun, text: str) -> tuple[str, list[str]]:
    """The passive reply to one typed message and the statements the bot ran for it."""
    statements: list[str] = []
    await run.app.db._conn.set_trace_callback(statements.append)
    try:
        answer = await run.platform.text(RESIDENT, text)
    finally:
        await run.app.db._conn.set_trace_callback(None)
    assert answer.status == 200, answer
    return answer.text, statements


async def test_a_typed_choice_takes_one_statement_per_piece_of_state(run: WeChatRun, clock: FakeClock) -> None:
    await run.platform.click(RESIDENT, "i:report")  # the category list: its numbers are saved
    text, statements = await traced(run, "1")
    assert "描述问题" in text, text  # 1 chose the first category, as before
    joined = "\n".join(statements)
    # The last list comes back with the window's write, not from a read of its own.
    assert not [s for s in statements if s.lstrip().startswith("SELECT options FROM wechat_choices")], joined
    # The passive reply is stored by the done-mark, not by an UPDATE of its own.
    assert not [s for s in statements if "SET response" in s and "status" not in s], joined
    # Seen a moment ago: last_seen_at is not written again.
    assert not [s for s in statements if "last_seen_at" in s and s.lstrip().startswith("UPDATE")], joined
    assert not [s for s in statements if s.startswith("RELEASE")], joined
    assert await query(run.app, "SELECT status, response FROM inbox WHERE channel = 'wechat'"
                       " ORDER BY id DESC LIMIT 1") == [("done", text)]
    # What the callback itself asked of the database (the scheduler may tick meanwhile): store,
    # window and list, account, dialog read and write, list shown, done-mark with the reply.
    assert len([s for s in statements if RESIDENT in s]) <= 7, joined


async def test_last_seen_is_written_again_after_a_minute(run: WeChatRun, clock: FakeClock) -> None:
    await run.platform.text(RESIDENT, "你好")
    first = await query(run.app, "SELECT last_seen_at FROM accounts WHERE external_id = ?", RESIDENT)
    clock.advance(seconds=30)
    await run.platform.text(RESIDENT, "你好")
    assert await query(run.app, "SELECT last_seen_at FROM accounts WHERE external_id = ?", RESIDENT) == first
    clock.advance(seconds=61)
    await run.platform.text(RESIDENT, "你好")
    later = await query(run.app, "SELECT last_seen_at FROM accounts WHERE external_id = ?", RESIDENT)
    assert later != first and later[0][0] > first[0][0], (first, later)
