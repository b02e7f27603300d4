"""The board's counts per state (issue 16, workplace row): read from ticket_state_counts
(migration 0028, kept by triggers) when the filters are only scope, grid, community and
category; they must say exactly what counting the tickets says, through every change of state,
grid and category, on both engines."""

from __future__ import annotations

import re

from bot.app import App
from storage.staff_board import BoardFilter, TicketScope, state_counts
from tests.chat import ChatUser, file_report, query
from tests.web_harness import page, sign_in, workplace


async def counted(app: App, scope: TicketScope, board: BoardFilter) -> dict[str, int]:
    async with app.db.read() as conn:
        return await state_counts(conn, scope, board, app.clock.now())


async def by_tickets(app: App, where: str = "1 = 1", *params: object) -> dict[str, int]:
    rows = await query(app, f"SELECT status, COUNT(*) FROM tickets WHERE {where} GROUP BY status", *params)
    return {str(status): int(n) for status, n in rows}


async def test_counts_follow_every_change_and_show_on_the_board(app: App, resident: ChatUser) -> None:
    await file_report(resident, description="3栋楼道灯坏了")
    await file_report(resident, category="环境卫生", description="垃圾没人清")
    await file_report(ChatUser(app, "resident-2"), description="10栋水管漏水", address="龙池花园10栋")
    await file_report(ChatUser(app, "resident-3"), description="南桥路灯不亮", address="南桥新村1栋")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await client.post("/staff/tickets/1/ack", data={"csrf": csrf})
        await client.post("/staff/tickets/2/resolve", data={"csrf": csrf, "text": "已清运"})
        await client.post("/staff/tickets/3/reassign", data={"csrf": csrf, "grid": "G01", "text": "归一网格"})
        status, body = await page(client, "/staff/")
    assert status == 200
    everything = await counted(app, TicketScope(everything=True), BoardFilter())
    assert everything == await by_tickets(app) and sum(everything.values()) == 4
    assert everything["acknowledged"] == 1 and everything["resolved"] == 1
    assert re.search(r"处理中 <b>1</b>", body) and re.search(r"已办结待评价 <b>1</b>", body), body
    for scope, where, params in ((TicketScope(grid_id="G01"), "grid_id = ?", ("G01",)),
                                 (TicketScope(grid_id="G02"), "grid_id = ?", ("G02",)),
                                 (TicketScope(community_id="longchi"), "community_id = ?", ("longchi",)),
                                 (TicketScope(responder_of=(("sanitation", None),)), "category_id = ?",
                                  ("sanitation",))):
        assert await counted(app, scope, BoardFilter()) == await by_tickets(app, where, *params), scope
    # G02 had #3 until it was reassigned: no state is left with a count of 0 or less.
    assert await counted(app, TicketScope(grid_id="G02"), BoardFilter()) == {}
    grid_of_three = await query(app, "SELECT grid_id FROM tickets WHERE id = 3")
    assert grid_of_three == [("G01",)]
    # A filter the table cannot answer (words) still counts the tickets themselves.
    assert await counted(app, TicketScope(everything=True), BoardFilter(text="垃圾")) == {"resolved": 1}
