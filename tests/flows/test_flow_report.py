"""Transcripts of the report flow's details: navigation, drafts, addresses, phone, attachments."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from storage import tickets
from storage.clock import FakeClock
from storage.dialogs import load_dialog
from tests.chat import (
    ChatUser,
    actions,
    all_tickets,
    bind,
    file_report,
    notifications,
    read,
    ticket_row,
)

CATEGORY_PROMPT = "请选择要反映的问题类别"
DESCRIPTION_PROMPT = "请简单描述问题"
COMMUNITY_PROMPT = "问题在哪个社区"
COMPOUND_PROMPT = "请选择小区"
BUILDING_PROMPT = "请选择楼栋"
PHONE_PROMPT = "留个电话方便网格员联系您吗"
FLAT_PROMPT = "请补充单元和门牌号"


async def dialog(app: App, user: str = "resident-1") -> tuple[str, str, dict] | None:
    found = await read(app, load_dialog, "console", user)
    return (found.flow, found.step, found.data) if found else None


async def ticket_count(app: App) -> int:
    return len(await all_tickets(app))


async def test_back_at_every_step_returns_to_the_previous_prompt(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    assert CATEGORY_PROMPT in resident.text
    await resident.press("水电维修")
    assert DESCRIPTION_PROMPT in resident.text
    await resident.say("返回")  # typed
    assert CATEGORY_PROMPT in resident.text
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    assert COMMUNITY_PROMPT in resident.text
    await resident.press("返回")
    assert DESCRIPTION_PROMPT in resident.text
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.press("龙池社区")
    assert COMPOUND_PROMPT in resident.text
    await resident.press("返回")
    assert COMMUNITY_PROMPT in resident.text
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    assert BUILDING_PROMPT in resident.text
    await resident.press("返回")
    assert COMPOUND_PROMPT in resident.text
    await resident.press("龙池花园")
    app.clock.advance(minutes=1)  # the flood guard: the steps below make more than 20 a minute
    await resident.press("3栋")
    assert FLAT_PROMPT in resident.text  # issue 13: the optional unit/room question
    await resident.press("返回")
    assert BUILDING_PROMPT in resident.text
    await resident.press("3栋")
    await resident.press("跳过")
    assert PHONE_PROMPT in resident.text
    await resident.press("返回")
    assert FLAT_PROMPT in resident.text
    await resident.press("跳过")
    await resident.press("不留电话")
    assert "请确认" in resident.text
    await resident.press("返回")
    assert PHONE_PROMPT in resident.text
    assert (await dialog(app))[:2] == ("report", "phone")
    await resident.press("不留电话")
    await resident.press("提交")
    ticket = await ticket_row(app, 1)
    assert (ticket.description, ticket.building) == ("楼道灯坏了，晚上很黑", "3栋")


async def test_back_from_phone_after_a_typed_address_offers_the_guesses_again(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园小区3号楼")  # not exact (an exact address is taken without asking)
    await resident.press("龙池花园3栋")
    await resident.press("返回")
    assert "您说的是下面哪一个" in resident.text
    assert "龙池花园3栋" in resident.options


async def test_back_at_the_first_step_leaves_the_flow(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    assert "返回" not in resident.options  # only 取消 here; typed 返回 still works
    await resident.say("返回")
    assert "已取消" in resident.text
    assert await dialog(app) is None


async def test_typed_cancel_clears_the_draft(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("取消")
    assert resident.text == "已取消，本次填写的内容没有提交。"
    assert resident.last.main_keyboard is True
    assert await dialog(app) is None
    await resident.say("/report")  # starts afresh, not at the old step
    assert CATEGORY_PROMPT in resident.text
    assert await ticket_count(app) == 0


async def test_cancel_button_at_the_summary_files_nothing(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园3栋")
    await resident.say("13812345678")
    await resident.press("取消")
    assert "没有提交" in resident.text
    assert await dialog(app) is None
    assert await ticket_count(app) == 0
    assert await notifications(app) == []  # nobody was told of anything
    # The 提交 button of the cancelled summary is stale now.
    await resident.press("提交")
    assert "失效" in resident.text
    assert await ticket_count(app) == 0


async def test_double_submit_files_one_ticket(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    await resident.press_data("r:submit")
    assert "工单号" not in resident.text
    assert await ticket_count(app) == 1


async def test_draft_survives_a_restart(app: App, config: Config, clock: FakeClock, tmp_path: Path) -> None:
    before = ChatUser(app, "resident-1")
    await before.say("/report")
    await before.press("环境卫生")
    await before.say("垃圾桶满了没人清")
    await before.say("清流苑12栋")
    await before.press("跳过")  # issue 13: the optional unit/room question
    await app.close()

    again = await build_app(config, clock, tmp_path / "bot.db")
    try:
        after = ChatUser(again, "resident-1")
        await after.say("/report")
        await after.press("继续")  # issue 13: a draft is offered, not jumped into
        assert PHONE_PROMPT in after.text
        await after.say("13812345678")
        assert "类别：环境卫生/垃圾分类" in after.text and "描述：垃圾桶满了没人清" in after.text
        assert "地址：清流苑12栋" in after.text and "电话：138****5678" in after.text
        await again.close()

        # Stopped at the summary: /report shows the summary again.
        third = await build_app(config, clock, tmp_path / "bot.db")
        again = third
        resumed = ChatUser(third, "resident-1")
        await resumed.say("/report")
        await resumed.press("继续")
        assert "请确认" in resumed.text and "提交" in resumed.options
        await resumed.press("提交")
        ticket = await ticket_row(third, 1)
        assert (ticket.category_id, ticket.grid_id, ticket.phone) == ("sanitation", "G05", "13812345678")
    finally:
        await again.close()


async def test_typed_address_is_matched_and_confirmed(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园小区3号楼")  # not exact: 「龙池花园3号楼」 is taken without asking
    assert "您说的是下面哪一个" in resident.text
    assert resident.options[0] == "龙池花园3栋"
    assert (await dialog(app))[1] == "address_pick"
    await resident.press("龙池花园3栋")
    assert FLAT_PROMPT in resident.text  # issue 13: the optional unit/room question
    assert (await dialog(app))[2]["address"] == {
        "community_id": "longchi", "compound": "龙池花园", "building": "3栋", "grid_id": "G01"}


async def test_unknown_address_changes_nothing(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    before = await dialog(app)
    for typed in ("火星基地5栋", "龙池花园99栋"):
        await resident.say(typed)
        assert f"没有找到「{typed}」" in resident.text
        assert COMMUNITY_PROMPT in resident.text
        assert await dialog(app) == before


async def test_second_report_confirms_the_bound_address(app: App, resident: ChatUser) -> None:
    await file_report(resident, phone="13812345678")
    await resident.say("/report")
    await resident.press("环境卫生")
    await resident.say("楼下垃圾没人清理")
    assert "问题在您登记的地址「龙池花园3栋」吗" in resident.text
    assert resident.options[:2] == ["是", "换一个地址"]
    await resident.press("是")
    assert PHONE_PROMPT in resident.text
    assert resident.options[0] == "使用 138****5678"
    await resident.press("使用 138****5678")
    await resident.press("提交")
    ticket = await ticket_row(app, 2)
    assert (ticket.building, ticket.phone, ticket.category_id) == ("3栋", "13812345678", "sanitation")
    # Typing 是 works like the button.
    await resident.say("/report")
    await resident.press("矛盾化解")
    await resident.say("楼上装修太吵了")
    await resident.say("是")
    assert PHONE_PROMPT in resident.text


async def test_phone_validation(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园3栋")
    await resident.press("跳过")  # issue 13: the optional unit/room question
    for wrong in ("12345", "23812345678", "1381234567a"):
        await resident.say(wrong)
        assert "手机号格式不对" in resident.text
        assert (await dialog(app))[1] == "phone"
    await resident.say("+86 138-1234-5678")
    assert "电话：138****5678" in resident.text
    await resident.press("返回")
    await resident.press("不留电话")
    assert "电话：未留" in resident.text
    await resident.press("提交")
    assert (await ticket_row(app, 1)).phone == ""
    assert (await resident.resident()).phone == ""


async def test_photos_and_location_are_attached(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await resident.say("/report")
    await resident.photo("photo-0")  # even before a category is chosen
    assert "已添加照片（共 1 张）" in resident.text
    await resident.press("水电维修")
    await resident.photo("photo-1")
    assert "已添加照片（共 2 张）" in resident.text
    await resident.location(32.30121, 118.31234)
    assert resident.text == "已添加位置。"
    await resident.photo("photo-2", caption="灯")  # too short a caption: the photo still counts
    assert "已添加照片（共 3 张）" in resident.text and "描述太短了" in resident.text
    await resident.photo("photo-3", caption="楼道灯坏了，晚上很黑")
    assert COMMUNITY_PROMPT in resident.text
    await resident.say("龙池花园3栋")
    await resident.photo("photo-4")
    await resident.photo("photo-5")
    assert "最多添加 5 张照片" in resident.text
    await resident.press("跳过")  # issue 13: the optional unit/room question
    await resident.press("不留电话")
    assert "照片：5 张" in resident.text and "位置：已添加" in resident.text
    await resident.press("提交")

    assert [ref for _, ref in await read(app, tickets.photos_of, 1)] == [f"photo-{n}" for n in range(5)]
    ticket = await ticket_row(app, 1)
    assert (ticket.latitude, ticket.longitude) == (32.30121, 118.31234)
    assert ticket.description == "楼道灯坏了，晚上很黑"
    cards = await leader.inbox()
    assert "位置：32.30121, 118.31234" in cards[0].text
    assert [c.photo for c in cards[1:]] == [f"photo-{n}" for n in range(5)]


async def test_a_voice_alone_starts_a_report_and_reaches_the_leader(app: App, resident: ChatUser,
                                                                    leader: ChatUser) -> None:
    """Issue 13 (适老化): a voice message without a transcript, with nothing open, starts a report
    with it attached; the summary and the card count it, and the card is followed by it."""
    await bind(app, leader, "g01-leader")
    await resident.voice("voice-0")
    assert "已收到语音（共 1 条）" in resident.text and "问题类别" in resident.text
    await resident.press("水电维修")
    await resident.voice("voice-1")
    assert "已收到语音（共 2 条）" in resident.text
    await resident.say("楼道漏水")
    await resident.say("龙池花园3栋")
    await resident.press("跳过")
    await resident.press("不留电话")
    assert "照片：0 张，语音 2 条" in resident.text
    await resident.press("提交")
    assert [(a.ref, a.kind) for a in await read(app, tickets.attachments_of, 1)] == [
        ("voice-0", tickets.AttachmentKind.VOICE), ("voice-1", tickets.AttachmentKind.VOICE)]
    card, *recordings = await leader.inbox()
    assert "附件：语音 2 条" in card.text
    assert [(r.voice, r.text) for r in recordings] == [("voice-0", "工单 #1 的语音"), ("voice-1", "工单 #1 的语音")]


async def test_description_too_short(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("灯")  # issue 13: two characters (「灯坏」) are a description now
    assert "描述太短了" in resident.text and "至少 2 个字" in resident.text
    assert (await dialog(app))[1] == "description"
    await resident.say("x" * 1001)
    assert "描述太长了" in resident.text
    assert (await dialog(app))[1] == "description"


async def test_typed_category_is_understood(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.say("加装电梯")
    assert DESCRIPTION_PROMPT in resident.text
    assert (await dialog(app))[2]["category"] == "elevator"
    await resident.say("返回")
    await resident.say("随便说说")
    assert "请从选项中选择" in resident.text and CATEGORY_PROMPT in resident.text


async def test_whole_report_takes_at_most_8_messages(app: App, resident: ChatUser) -> None:
    await resident.say("微服务")
    resident.sent = 0
    await resident.press("我要反映")
    await resident.press("水电维修")
    await resident.say("3栋楼道灯坏了，晚上很黑")
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    await resident.press("3栋")
    await resident.press("跳过")  # issue 13: the optional unit/room question
    await resident.press("不留电话")
    await resident.press("提交")
    assert "工单号 #1" in resident.text
    assert resident.sent <= 9
    assert await actions(app, 1) == ["created", "routed", "unreachable"]
