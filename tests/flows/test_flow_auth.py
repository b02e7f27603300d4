"""Only a ticket's own grid people, its community's staff, its responders and admins may act."""

from __future__ import annotations

import pytest

from bot.app import App
from tests.chat import (
    ChatUser,
    actions,
    audit,
    bind,
    dialogs,
    file_report,
    notifications,
    ticket_row,
)

REFUSAL = "抱歉，这张工单不归您处理，操作未生效。"


@pytest.fixture
async def filed(app: App, resident: ChatUser, leader: ChatUser) -> int:
    await bind(app, leader, "g01-leader")
    return await file_report(resident, phone="13812345678")


async def snapshot(app: App) -> tuple:
    return (await ticket_row(app, 1), await actions(app, 1), await dialogs(app), await notifications(app))


@pytest.mark.parametrize("who", ["g02-leader", "g02-guide", "g02-w1", "nanqiao-staff-1", "post-longchi",
                                 "resident", "unbound"])
@pytest.mark.parametrize("button", ["t:ack:1", "t:res:1", "t:re:1"])
async def test_outsiders_are_refused(app: App, resident: ChatUser, filed: int, who: str, button: str) -> None:
    if who == "resident":
        presser = resident
    else:
        presser = ChatUser(app, f"user-{who}")
        if who != "unbound":
            await bind(app, presser, who)
    before = await snapshot(app)
    await presser.press_data(button)
    assert presser.text == REFUSAL
    assert await snapshot(app) == before


async def test_refused_presser_cannot_continue_by_typing(app: App, filed: int) -> None:
    other = ChatUser(app, "leader-g02")
    await bind(app, other, "g02-leader")
    await other.press_data("t:res:1")
    await other.say("已处理")  # no resolve dialog was opened: this is just free text
    assert (await ticket_row(app, 1)).status == "routed"


async def test_missing_ticket(app: App, filed: int) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.press_data("t:ack:42")
    assert admin.text == "没有找到工单 #42。"
    await admin.press_data("t:ack:abc")
    assert "请从选项中选择" in admin.text


@pytest.mark.parametrize("who, role", [
    ("sd-admin-1", "街道管理员"), ("longchi-staff-1", "社区工作人员"), ("g01-guide", "网格指导员"),
    ("g01-w1", "党员网格员"),
])
async def test_insiders_may_act(app: App, resident: ChatUser, filed: int, who: str, role: str) -> None:
    presser = ChatUser(app, f"user-{who}")
    await bind(app, presser, who)
    await presser.press_data("t:ack:1")
    assert presser.text.startswith("已受理工单 #1")
    assert (await ticket_row(app, 1)).status == "acknowledged"
    assert [event.actor_id for event in await audit(app, "acknowledged")] == [who]
    assert f"已由{role}" in (await resident.inbox())[-1].text
    await presser.press_data("t:res:1")
    await presser.say("已处理完毕")
    assert (await ticket_row(app, 1)).status == "resolved"


async def test_admin_may_reassign(app: App, filed: int) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.press_data("t:re:1")
    await admin.say("G31")
    await admin.say("属于高庵社区")
    ticket = await ticket_row(app, 1)
    assert (ticket.grid_id, ticket.community_id) == ("G31", "gaoan")


async def test_rights_are_checked_again_when_the_note_arrives(app: App, leader: ChatUser, filed: int) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await leader.press_notice("办结")  # the leader opens the resolve dialog ...
    await admin.press_data("t:re:1")  # ... meanwhile the admin moves the ticket away
    await admin.say("G08")
    await admin.say("转给醉翁小区")
    await leader.say("已更换灯泡")
    assert leader.text == REFUSAL
    assert (await ticket_row(app, 1)).status == "routed"
    assert "resolved" not in await actions(app, 1)
    assert await leader.dialog() is None


async def test_responder_may_not_act_on_other_categories(app: App, resident: ChatUser, filed: int) -> None:
    post = ChatUser(app, "post-longchi")
    await bind(app, post, "post-longchi")
    await post.press_data("t:ack:1")  # a repair ticket
    assert post.text == REFUSAL
    await file_report(resident, category="代充燃气", description="帮忙代充燃气费", address="龙池花园4栋")
    await post.press_data("t:ack:2")
    assert (await ticket_row(app, 2)).status == "acknowledged"
