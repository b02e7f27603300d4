"""The workplace's tickets over HTTP: the scope (a leader sees their grid, community staff their
community, admins everything; another ticket is 404 like a missing one), the board's filters and
counts, the ticket page, the actions through the chat flows' code (the resident is told exactly
as from chat, every event marked as from the web) and the overdue board."""

from __future__ import annotations

import re

from bot.app import App
from handlers.escalation import sweep_deadlines
from storage import outbox, web_sessions
from storage.clock import FakeClock
from tests.chat import ChatUser, actions, bind, file_report, notifications, ticket_row
from tests.web_harness import page, sign_in, workplace


def shown_ids(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-ticket="(\d+)"', body)]


async def two_grids(app: App, resident: ChatUser) -> None:
    """#1 in G01 (龙池花园3栋), #2 in G02 (龙池花园10栋), #3 in G11 (南桥新村, another community)."""
    await file_report(resident, description="3栋楼道灯坏了", phone="13812345678")
    await file_report(ChatUser(app, "resident-2"), description="10栋水管漏水", address="龙池花园10栋")
    await file_report(ChatUser(app, "resident-3"), description="南桥路灯不亮", address="南桥新村1栋")


async def test_each_role_sees_its_own_scope(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    assert [(await ticket_row(app, n)).grid_id for n in (1, 2, 3)][:2] == ["G01", "G02"]
    expected = {"g01-leader": [1], "g02-w1": [2], "longchi-staff-1": [1, 2], "sd-admin-1": [1, 2, 3]}
    for person, ids in expected.items():
        async with workplace(app) as client:
            await sign_in(client, app, person)
            status, body = await page(client, "/staff/")
            assert status == 200 and sorted(shown_ids(body)) == ids, (person, shown_ids(body))
            for ticket in (1, 2, 3):
                status, body = await page(client, f"/staff/tickets/{ticket}")
                assert status == (200 if ticket in ids else 404), (person, ticket)
                if ticket not in ids:
                    assert "没有找到" in body and "漏水" not in body and "路灯" not in body
            status, missing = await page(client, "/staff/tickets/999")
            assert status == 404 and "没有这张工单" in missing  # the same answer: no enumeration


async def test_actions_on_another_grids_ticket_are_404_and_change_nothing(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        before = await notifications(app)
        for action, data in (("ack", {}), ("resolve", {"text": "已修好"}), ("note", {"text": "看过"}),
                             ("reassign", {"grid": "G01", "text": "应归一网格"})):
            response = await client.post(f"/staff/tickets/2/{action}", data={"csrf": csrf, **data})
            assert response.status == 404, action
        unknown = await client.post("/staff/tickets/1/delete", data={"csrf": csrf})
        assert unknown.status == 404
    assert (await ticket_row(app, 2)).status == "routed"
    assert await actions(app, 2) == ["created", "routed", "unreachable"]
    assert await notifications(app) == before


async def test_web_ack_tells_the_resident_exactly_as_chat_does(app: App, resident: ChatUser,
                                                                 leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident, description="3栋楼道灯坏了")
    await file_report(resident, description="3栋电梯不动了")
    await leader.say("受理 1")  # from chat
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        response = await client.post("/staff/tickets/2/ack", data={"csrf": csrf})
        body = await response.text()
    assert response.status == 200 and "已受理工单 #2" in body and "处理中" in body
    async with app.db.read() as conn:
        told = [row.payload["text"] for row in await outbox.rows_for(conn, "console", "resident-1")
                if "受理，正在处理" in row.payload["text"]]
        origins_1 = await web_sessions.origins_of(conn, 1)
        origins_2 = await web_sessions.origins_of(conn, 2)
    assert len(told) == 2 and told[1] == told[0].replace("#1", "#2")  # word for word
    assert (await ticket_row(app, 2)).status == "acknowledged"
    assert origins_1 == {} and list(origins_2.values()) == ["web"]  # the 受理 row, from the web


async def test_resolve_reassign_and_note_from_the_page(app: App, resident: ChatUser) -> None:
    await file_report(resident, description="3栋楼道灯坏了", phone="13812345678")
    await file_report(resident, description="3栋电梯不动了")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        empty = await client.post("/staff/tickets/1/resolve", data={"csrf": csrf, "text": "  "})
        assert "请发送办理结果" in await empty.text()
        assert (await ticket_row(app, 1)).status == "routed"
        done = await client.post("/staff/tickets/1/resolve", data={"csrf": csrf, "text": "已更换灯泡"})
        assert "工单 #1 已办结" in await done.text()
        note = await client.post("/staff/tickets/1/note", data={"csrf": csrf, "text": "灯具老化，下月整体更换"})
        assert "已为工单 #1 添加备注" in await note.text()
        moved = await client.post("/staff/tickets/2/reassign", data={"csrf": csrf, "grid": "G02", "text": "在二网格"})
        # Moved out of the leader's grid: the page says what happened instead of the ticket.
        assert moved.status == 200 and "工单 #2 已转派到 龙池花园第二网格" in await moved.text()
        same = await client.post("/staff/tickets/1/reassign", data={"csrf": csrf, "grid": "G01", "text": "x"})
        assert same.status == 200
        status, body = await page(client, "/staff/tickets/1")
    assert status == 200 and "灯具老化" in body and "内部备注" in body and "已更换灯泡" in body
    assert "13812345678" in body  # the phone in full for its handlers
    assert body.count('class="badge web"') == 2  # 办结 and the note
    assert await actions(app, 1) == ["created", "routed", "unreachable", "resolved", "staff_note"]
    async with app.db.read() as conn:
        marked = await web_sessions.origins_of(conn, 1)
        moved_marks = await web_sessions.origins_of(conn, 2)
    assert len(marked) == 2 and set(marked.values()) == {"web"}
    assert len(moved_marks) >= 2  # 转派 and the new grid's routing it caused
    rows = [row.payload["text"] for row in await notifications(app)]
    assert any("已办结：已更换灯泡" in text for text in rows)
    assert any("已转交 龙池花园第二网格" in text for text in rows)
    assert not any("灯具老化" in text for text in rows)  # an internal note reaches no one
    assert (await ticket_row(app, 2)).grid_id == "G02"
    await resident.say("我的工单")
    await resident.press("#1")
    assert "已更换灯泡" in resident.text and "灯具老化" not in resident.text


async def test_board_filters_counts_and_urgency(app: App, resident: ChatUser, clock: FakeClock) -> None:
    await file_report(resident, description="3栋楼道灯坏了")
    clock.advance(minutes=30)
    await file_report(resident, category="环境卫生", description="垃圾没人清")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await client.post("/staff/tickets/2/ack", data={"csrf": csrf})
        status, body = await page(client, "/staff/")
        assert status == 200 and shown_ids(body) == [1, 2]  # the soonest due first
        assert re.search(r"待受理 <b>1</b>", body) and re.search(r"处理中 <b>1</b>", body)
        assert shown_ids((await page(client, "/staff/?status=acknowledged"))[1]) == [2]
        assert shown_ids((await page(client, "/staff/?q=%232"))[1]) == [2]
        assert shown_ids((await page(client, "/staff/?q=2"))[1]) == [2]
        assert shown_ids((await page(client, "/staff/?q=垃圾"))[1]) == [2]
        assert shown_ids((await page(client, "/staff/?q=%25"))[1]) == []  # LIKE's wildcard is a letter
        assert shown_ids((await page(client, "/staff/?grid=G02"))[1]) == []
        assert shown_ids((await page(client, "/staff/?community=longchi&grid=G01"))[1]) == [1, 2]
        assert shown_ids((await page(client, "/staff/?from=2026-11-27"))[1]) == []
        assert shown_ids((await page(client, "/staff/?from=2026-11-26&to=2026-11-26"))[1]) == [1, 2]
        assert shown_ids((await page(client, "/staff/?overdue=1"))[1]) == []
        clock.advance(hours=3)  # past #1's 受理 time limit
        overdue = (await page(client, "/staff/board/rows?overdue=1"))[1]
        assert shown_ids(overdue) == [1] and "已超时" in overdue and "<html" not in overdue
        assert shown_ids((await page(client, "/staff/?status=nonsense&from=yesterday"))[1]) == [1, 2]


async def test_overdue_board_shows_misses_and_each_whistle(app: App, resident: ChatUser, clock: FakeClock) -> None:
    await file_report(resident, description="3栋楼道灯坏了")
    await file_report(ChatUser(app, "resident-2"), description="10栋水管漏水", address="龙池花园10栋")
    async with workplace(app) as client:
        await sign_in(client, app, "longchi-staff-1")
        status, body = await page(client, "/staff/overdue")
        assert status == 200 and "暂无" in body
        clock.advance(hours=3)
        async with app.db.transaction() as conn:
            assert await sweep_deadlines(conn, app.services, clock.now())  # 吹哨 at the miss
        status, body = await page(client, "/staff/overdue")
    assert status == 200
    assert 'href="/staff/tickets/1"' in body and 'href="/staff/tickets/2"' in body
    per_grid = body.split('id="per-grid"')[1].split("</table>")[0]
    assert "龙池花园第一网格" in per_grid and "龙池花园第二网格" in per_grid
    whistles = body.split('id="whistles"')[1].split("</table>")[0]
    assert "超时上报" in whistles and "（未受理）" in whistles and "网格指导员" in whistles
