"""The deadline sweep reads only tickets due for a look (migration 0022's watch_at).

水电维修: 2 h to 受理, 48 h to 办结; the fake clock starts at 11-26 10:00 (Shanghai), so a new
ticket is warned at 11:36 and due at 12:00. What a tick reads is what
`deadlines.due_for_look` returns, the sweep's only read of candidates.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from handlers.escalation import sweep_deadlines
from storage import deadlines
from storage.clock import FakeClock, stamp
from storage.db import bundled_migrations
from storage.deadlines import Deadline, candidate_sql
from tests.chat import ChatUser, bind, file_report, query


async def _tick(app: App) -> list[str]:
    async with app.db.transaction() as conn:
        return [n.recipient.chat_id for n in await sweep_deadlines(conn, app.services, app.clock.now())]


async def _read_by_a_tick(app: App, deadline: Deadline = Deadline.ACK) -> list[int]:
    async with app.db.read() as conn:
        return [c.ticket_id for c in await deadlines.due_for_look(conn, deadline, app.clock.now())]


async def test_a_tick_reads_a_ticket_only_when_it_needs_the_sweep(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    start = clock.now()
    assert await _read_by_a_tick(app) == [1]  # new: looked at by the next tick
    assert await _tick(app) == []
    # Nothing to do before 80 % of the window: not read again until then.
    assert await query(app, "SELECT watch_at FROM tickets") == [(stamp(start + timedelta(minutes=96)),)]
    clock.advance(minutes=95)
    assert await _read_by_a_tick(app) == []
    assert await _tick(app) == []
    clock.advance(minutes=1)
    assert await _read_by_a_tick(app) == [1]
    assert await _tick(app) == ["leader-g01"]
    # Warned: next looked at when it is due.
    assert await query(app, "SELECT watch_at FROM tickets") == [(stamp(start + timedelta(hours=2)),)]
    clock.advance(minutes=23)
    assert await _read_by_a_tick(app) == []

    # 受理 writes the ticket's state: looked at again, now for the 办结 deadline.
    await leader.press_notice("受理")
    assert await _read_by_a_tick(app, Deadline.RESOLVE) == [1]
    assert await _tick(app) == []
    # 办结 is due 48 h after the report, the window still the one that began then.
    assert await query(app, "SELECT watch_at FROM tickets") == [
        (stamp(start + timedelta(hours=48 * 0.8)),)]


async def test_a_restart_looks_again_at_every_watched_ticket(
    app: App, config: Config, clock: FakeClock, resident: ChatUser, tmp_path: Path
) -> None:
    """watch_at was computed under the config of its time; after a restart (perhaps with other
    working hours or windows) the first tick looks at every watched ticket again."""
    await file_report(resident)
    assert await _tick(app) == []
    assert await query(app, "SELECT watch_at FROM tickets") == [(stamp(clock.now() + timedelta(minutes=96)),)]
    restarted = await build_app(config, clock, tmp_path / "bot.db")
    try:
        assert await _read_by_a_tick(restarted) == [1]
        assert await query(restarted, "SELECT watch_at FROM tickets") == [("",)]
    finally:
        await restarted.close()


async def test_an_escalated_ticket_gets_its_new_window_scheduled_in_the_same_tick(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await bind(app, ChatUser(app, "guide-g01"), "g01-guide")
    await file_report(resident)
    clock.advance(hours=2)
    assert await _tick(app) == ["guide-g01", "resident-1"]  # 吹哨 to the guide, the resident told
    escalated = clock.now()
    # The guide's fresh 2 h window: its warning at 80 %, nothing left for a tick at this moment.
    assert await query(app, "SELECT watch_at FROM tickets") == [
        (stamp(escalated + timedelta(minutes=96)),)]
    assert await _read_by_a_tick(app) == []


async def test_closed_and_settled_tickets_leave_the_watch_index(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.press_data("t:res:1")
    await leader.say("已处理")
    await resident.press_notice("满意")
    assert await query(app, "SELECT status, watch_at FROM tickets") == [("closed", None)]


async def test_the_sweep_searches_the_watch_index() -> None:
    conn = sqlite3.connect(":memory:")
    for _, sql in bundled_migrations():
        conn.executescript(sql)
    for deadline in Deadline:
        sql = candidate_sql(deadline, watch=True)
        plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["x"] * sql.count("?"))]
        assert any(d.startswith("SEARCH t USING INDEX tickets_watch (watch_at<?)") for d in plan), plan
        assert [d for d in plan if d.startswith("SCAN")] == ["SCAN c"], plan
