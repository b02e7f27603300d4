"""Transcripts of typed staff commands: 受理 123 / 办结 123 说明 / 转派 123 G08 原因."""

from __future__ import annotations

import pytest

from bot.app import App
from storage import reads
from tests.chat import (
    ChatUser,
    actions,
    audit,
    bind,
    dialogs,
    file_report,
    notifications,
    read,
    ticket_row,
)

REFUSAL = "抱歉，这张工单不归您处理，操作未生效。"
USAGE = "工单口令这样写（数字是工单号）：\n受理 123\n办结 123 办理结果\n转派 123 网格编号 原因"
STAFF_ONLY = "「受理」「办结」「转派」是工作人员处理工单用的。您要反映问题，请点菜单「微服务」→「我要反映」。"


@pytest.fixture
async def filed(app: App, resident: ChatUser, leader: ChatUser) -> int:
    await bind(app, leader, "g01-leader")
    return await file_report(resident, phone="13812345678")


async def snapshot(app: App) -> tuple:
    return (await ticket_row(app, 1), await actions(app, 1), await dialogs(app),
            await notifications(app), await read(app, reads.photos))


# -- the three commands, one step each -------------------------------------------------------


async def test_acknowledge_by_text(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await leader.say("受理 1")
    assert leader.text == "已受理工单 #1。处理完后请点「办结」。"
    assert (await ticket_row(app, 1)).status == "acknowledged"
    assert [(e.actor_kind, e.actor_id) for e in await audit(app, "acknowledged")] == [("person", "g01-leader")]
    assert [n.text for n in await resident.inbox()] == [
        "您反映的问题 #1（水电维修）已由支部网格长 万秀英 受理，正在处理。"]

    await leader.say("受理 #1")  # the same as pressing 受理 again
    assert leader.text == "工单 #1 当前状态为「处理中」，无需受理。"
    assert await actions(app, 1) == ["created", "routed", "notified", "acknowledged"]
    assert len(await resident.inbox()) == 1


async def test_resolve_by_text_in_one_step(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await leader.say("受理 1")
    await leader.say("办结 1 已更换灯泡，楼道恢复照明")
    assert leader.text == "工单 #1 已办结，已请居民评价。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.result_note) == ("resolved", "已更换灯泡，楼道恢复照明")
    assert [(e.actor_id, e.note, e.data) for e in await audit(app, "resolved")] == [
        ("g01-leader", "已更换灯泡，楼道恢复照明", {"photos": 0})]
    notice = (await resident.inbox())[-1]
    assert notice.text == "您反映的问题 #1（水电维修）已办结：已更换灯泡，楼道恢复照明\n请您评价："
    assert [o.label for o in notice.options] == ["满意", "基本满意", "不满意"]
    assert await dialogs(app) == []

    await resident.press_notice("满意")  # the rating works as after the button flow
    assert (await ticket_row(app, 1)).status == "closed"


async def test_resolve_without_a_note_asks_for_one(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("办结 1")
    assert leader.text == "请发送办理结果（文字或照片），例如「已更换灯泡」："
    assert (await ticket_row(app, 1)).status == "routed"
    await leader.say("已处理")
    assert leader.text == "工单 #1 已办结，已请居民评价。"
    assert (await ticket_row(app, 1)).result_note == "已处理"


async def test_resolve_with_a_photo_and_the_command_as_caption(app: App, resident: ChatUser, leader: ChatUser,
                                                               filed: int) -> None:
    await leader.photo("fixed-lamp", caption="办结 1")
    assert leader.text == "工单 #1 已办结，已请居民评价。"
    assert (await ticket_row(app, 1)).result_note == "补充照片"
    assert [(p.ref, p.added_by) for p in await read(app, reads.photos)] == [("fixed-lamp", "g01-leader")]
    # Issue 13: the photo reaches the resident, before the rating request.
    *_, photo, rating = await resident.inbox()
    assert (photo.photo, photo.text) == ("fixed-lamp", "工单 #1 办结照片")
    assert "已办结" in rating.text and rating.options


async def test_reassign_by_text_in_one_step(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    g08 = ChatUser(app, "leader-g08")
    await bind(app, g08, "g08-leader")
    await leader.say("转派 1 g08 问题在醉翁小区，不在本网格")
    assert leader.text == "工单 #1 已转派到 醉翁小区网格。"
    ticket = await ticket_row(app, 1)
    assert (ticket.grid_id, ticket.community_id, ticket.status) == ("G08", "longchi", "routed")
    [reassigned] = await audit(app, "reassigned")
    assert (reassigned.actor_id, reassigned.note) == ("g01-leader", "问题在醉翁小区，不在本网格")
    assert reassigned.data["from"] == "G01" and reassigned.data["to"] == "G08"
    assert (await actions(app, 1))[-2:] == ["reassigned", "notified"]
    [card] = await g08.inbox()
    assert card.text.startswith("【转派工单 #1】") and "问题在醉翁小区，不在本网格" in card.text
    assert (await resident.inbox())[-1].text == "您反映的问题 #1 已转交 醉翁小区网格 处理。"
    assert await dialogs(app) == []

    await leader.say("受理 1")  # the old grid has no say any more
    assert leader.text == REFUSAL
    await g08.say("受理 1")
    assert (await ticket_row(app, 1)).status == "acknowledged"


async def test_reassign_by_grid_name(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派 1 南桥新村第一网格 地址报错了")
    ticket = await ticket_row(app, 1)
    assert (ticket.grid_id, ticket.community_id) == ("G11", "nanqiao")
    assert [e.note for e in await audit(app, "reassigned")] == ["地址报错了"]


async def test_a_loosely_named_grid_is_confirmed_before_the_ticket_moves(
        app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派 1 南桥新村一网格 地址报错了")
    # Issue 13: the reason typed with it is kept; the guessed grid is the one option to confirm.
    assert leader.text == "是转派到「南桥新村第一网格」吗？是请点选它，不是请重新输入网格编号：\n（转派原因已记下：地址报错了）"
    assert leader.options == ["G11 南桥新村第一网格（南桥社区）", "取消"]
    assert (await ticket_row(app, 1)).grid_id == "G01"
    await leader.press("G11")
    assert (await ticket_row(app, 1)).grid_id == "G11"
    assert [e.note for e in await audit(app, "reassigned")] == ["地址报错了"]


async def test_reassign_without_a_reason_asks_for_it(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派 1 G08")
    assert leader.text == "转派到「醉翁小区网格」的原因是？"
    assert (await ticket_row(app, 1)).grid_id == "G01"  # nothing moves before the reason
    assert [(d.dialog.step, d.dialog.data) for d in await dialogs(app)] == [("reason", {"ticket": 1, "grid": "G08"})]
    await leader.say("问题在醉翁小区")
    assert leader.text == "工单 #1 已转派到 醉翁小区网格。"
    assert (await ticket_row(app, 1)).grid_id == "G08"


async def test_reassign_alone_starts_the_reassign_flow(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派 1")
    # Issue 13: the grids are offered as a list (their own community's first).
    assert leader.text.startswith("转派到哪个网格？请点选，或输入网格编号（如 G08）或名称")
    assert leader.options[0] == "G02 龙池花园第二网格"
    await leader.say("G08")
    await leader.say("问题在醉翁小区")
    assert (await ticket_row(app, 1)).grid_id == "G08"


@pytest.mark.parametrize("text", ["受理　＃１", "受理#1", "受理 ＃ 1", " 受理１ "])
async def test_full_width_digits_spaces_and_hash(app: App, leader: ChatUser, filed: int, text: str) -> None:
    await leader.say(text)
    assert leader.text.startswith("已受理工单 #1")
    assert (await ticket_row(app, 1)).status == "acknowledged"


async def test_full_width_resolve_and_reassign(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派　＃１　Ｇ０８　问题在醉翁小区")
    assert (await ticket_row(app, 1)).grid_id == "G08"
    assert [e.note for e in await audit(app, "reassigned")] == ["问题在醉翁小区"]


async def test_a_command_for_the_ticket_being_resolved_closes_that_dialog(
    app: App, leader: ChatUser, filed: int
) -> None:
    await leader.press_notice("办结")  # the resolve dialog is open ...
    await leader.say("办结 1，已修好")  # ... and the leader types the whole command instead
    assert (await ticket_row(app, 1)).result_note == "已修好"
    assert await dialogs(app) == []


# -- bad input changes nothing ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["g02-leader", "g02-guide", "nanqiao-staff-1", "post-longchi"])
@pytest.mark.parametrize("text", ["受理 1", "办结 1 已处理", "办结 1", "转派 1 G08 不归我们", "转派 1"])
async def test_outsiders_are_refused(app: App, filed: int, who: str, text: str) -> None:
    outsider = ChatUser(app, f"user-{who}")
    await bind(app, outsider, who)
    before = await snapshot(app)
    await outsider.say(text)
    assert outsider.text == REFUSAL
    assert await snapshot(app) == before


@pytest.mark.parametrize("who", ["sd-admin-1", "longchi-staff-1", "g01-guide", "g01-w1"])
async def test_insiders_may_use_the_commands(app: App, resident: ChatUser, filed: int, who: str) -> None:
    staff = ChatUser(app, f"user-{who}")
    await bind(app, staff, who)
    await staff.say("受理 1")
    await staff.say("办结 1 已处理完毕")
    assert (await ticket_row(app, 1)).status == "resolved"
    assert {e.actor_id for e in await audit(app) if e.actor_kind == "person"} == {who}


async def test_unknown_ticket(app: App, leader: ChatUser, filed: int) -> None:
    before = await snapshot(app)
    for text in ("受理 42", "办结 42 已处理", "转派 42 G08 不在本网格"):
        await leader.say(text)
        assert leader.text == "没有找到工单 #42。"
    assert await snapshot(app) == before


@pytest.mark.parametrize("text", ["受理", "受理 abc", "受理 1 马上去", "办结", "转派 G08 1", "受理 1234567890"])
async def test_malformed_commands_get_the_usage(app: App, leader: ChatUser, filed: int, text: str) -> None:
    before = await snapshot(app)
    await leader.say(text)
    assert leader.text == USAGE
    assert await snapshot(app) == before


async def test_wrong_state(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await leader.say("办结 1 已更换灯泡")
    before = await snapshot(app)
    await leader.say("受理 1")
    assert leader.text == "工单 #1 当前状态为「已办结待评价」，无需受理。"
    await leader.say("办结 1 再办一次")
    assert leader.text == "工单 #1 当前状态为「已办结待评价」，不能办结。"
    assert await snapshot(app) == before

    await resident.press_notice("满意")
    before = await snapshot(app)
    await leader.say("转派 1 G08 不在本网格")
    assert leader.text == "工单 #1 当前状态为「已完成」，不能再修改。"
    await leader.say("转派 1")
    assert leader.text == "工单 #1 当前状态为「已完成」，不能再修改。"
    assert await snapshot(app) == before


async def test_unknown_or_same_grid(app: App, leader: ChatUser, filed: int) -> None:
    before = await snapshot(app)
    await leader.say("转派 1 G99 不在本网格")
    assert leader.text == "没有找到网格「G99」。请这样回复：转派 1 网格编号 原因，如「转派 1 G08 不在本网格」。"
    await leader.say("转派 1 g01 不在本网格")
    assert leader.text == "工单已经在这个网格了，请换一个网格。"
    await leader.say("转派 1 G99")
    assert leader.text.startswith("没有找到网格「G99」")
    assert await snapshot(app) == before


# -- residents -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["受理 1", "办结 1 已处理", "转派 1 G08 原因"])
async def test_a_resident_typing_a_command_is_told_it_is_for_staff(
    app: App, resident: ChatUser, filed: int, text: str
) -> None:
    before = await snapshot(app)
    await resident.say(text)
    assert resident.text == STAFF_ONLY
    assert await snapshot(app) == before


async def test_a_resident_describing_a_problem_is_not_taken_for_a_command(
    app: App, resident: ChatUser, filed: int
) -> None:
    before = await ticket_row(app, 1)
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("受理 1")  # what the resident typed as the description
    assert resident.text != STAFF_ONLY
    assert (await resident.dialog()).data["description"] == "受理 1"
    assert await ticket_row(app, 1) == before


async def test_a_staff_member_filing_a_report_keeps_the_draft(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("/report")
    await leader.press("水电维修")
    await leader.say("受理 1")  # a staff command in the middle of a report: it runs ...
    assert leader.text.startswith("已受理工单 #1")
    await leader.say("/report")  # ... and the report draft is still there
    assert (await leader.dialog()).flow == "report"


# -- where staff learn the commands ----------------------------------------------------------


async def test_cards_and_staff_help_mention_the_commands(app: App, resident: ChatUser, leader: ChatUser,
                                                         filed: int) -> None:
    [card] = await leader.inbox()
    assert "也可回复：受理 1 / 办结 1 说明 / 转派 1 网格号 原因" in card.text
    await leader.say("/help")
    assert "回复「办结 123 办理结果」办结工单" in leader.text
    await resident.say("/help")
    assert "受理" not in resident.text
