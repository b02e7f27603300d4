"""Issue 13: erasing one's data tells everyone who currently holds the ticket, and covers sign-ups.

A ticket escalated (吹哨) or reopened (不满意) is held at every level it reached: the grid leader
and each level above up to its escalation level. A withdrawal — 撤销, or the erasure that withdraws
it — is told to all of them. Erasure deletes the resident's sign-up rows (whole rows, so every
column is covered), the organiser's count and list no longer include her, and her place is free;
我的数据 lists her sign-ups.
"""

from __future__ import annotations

import pytest

from bot.app import App
from bot.bootstrap import build_scheduler
from handlers.texts import ZH
from storage import reads
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, file_report, read, ticket_row
from tests.flows.test_announcements import admin, schedule  # noqa: F401  (admin: a fixture)
from tests.flows.test_escalation import sweep

CANCELLED = ZH["card_cancelled"].format(id=1)


@pytest.fixture
async def levels(app: App, leader: ChatUser) -> tuple[ChatUser, ChatUser, ChatUser]:
    guide, staff = ChatUser(app, "guide-g01"), ChatUser(app, "staff-longchi")
    await bind(app, leader, "g01-leader")
    await bind(app, guide, "g01-guide")
    await bind(app, staff, "longchi-staff-1")
    return leader, guide, staff


async def erase(user: ChatUser) -> None:
    await user.say("我的数据")
    await user.press("删除我的数据")
    await user.press("确认删除")
    assert "已删除您的个人信息" in user.text


async def cancelled_notices(user: ChatUser) -> int:
    return sum(notice.text == CANCELLED for notice in await user.inbox())


async def test_erasure_tells_every_level_an_escalated_ticket_reached(
    app: App, clock: FakeClock, resident: ChatUser, levels: tuple[ChatUser, ChatUser, ChatUser]
) -> None:
    admin_user = ChatUser(app, "admin-1")
    await bind(app, admin_user, "sd-admin-1")
    await file_report(resident)
    clock.advance(hours=2)
    await sweep(app)  # missed 受理: to the guide
    clock.advance(hours=2)
    await sweep(app)  # missed again: to the community
    assert (await ticket_row(app, 1)).escalation_level == 2
    await erase(resident)
    assert (await ticket_row(app, 1)).status == "cancelled"
    assert [await cancelled_notices(user) for user in levels] == [1, 1, 1]
    assert await cancelled_notices(admin_user) == 0  # the subdistrict never held it


async def test_withdrawing_a_reopened_ticket_tells_the_guide_too(
    app: App, resident: ChatUser, levels: tuple[ChatUser, ChatUser, ChatUser]
) -> None:
    leader, guide, staff = levels
    await file_report(resident)
    await leader.say("办结 1 已更换灯泡")
    await resident.press_notice("不满意")
    await resident.press("跳过")
    assert (await ticket_row(app, 1)).escalation_level == 1
    await resident.say("/mytickets")
    await resident.press("#1")
    await resident.press("撤销工单")
    await resident.press("确定撤销")
    assert [await cancelled_notices(user) for user in levels] == [1, 1, 0]


async def sign_up(user: ChatUser, announcement: int, contact: str = "") -> None:
    """报名, then the contact step: a name and phone typed, or 跳过."""
    await user.say(f"报名 {announcement}")
    if contact:
        await user.say(contact)
    else:
        await user.press("跳过")
    assert "报名成功" in user.text or "候补" in user.text, user.text


async def test_erasure_removes_her_sign_ups_and_frees_her_place(
    app: App, admin: ChatUser, resident: ChatUser  # noqa: F811
) -> None:
    first = await schedule(admin, "爱心义剪", "全部群", "立即", signup="2 明天 15:00")
    second = await schedule(admin, "社区义诊", "全部群", "立即", signup="30 明天 09:00")
    await build_scheduler(app).run_due()
    neighbour, late = ChatUser(app, "neighbour-1"), ChatUser(app, "late-1")
    await sign_up(resident, first, "王芳 13812345678")
    await sign_up(neighbour, first)
    await sign_up(resident, second)
    await resident.say(f"取消报名 {second}")
    await late.say(f"报名 {first}")  # full: she joins the waiting list
    await late.press("排队候补")
    if "跳过" in " ".join(late.options):
        await late.press("跳过")
    assert "候补" in late.text, late.text
    her = (await resident.account()).resident_id
    assert {(a, r) for a, r, _ in await read(app, reads.signups)} == {
        (first, her), (first, (await neighbour.account()).resident_id), (second, her),
        (first, (await late.account()).resident_id)}

    await erase(resident)
    assert [r for _, r, _ in await read(app, reads.signups) if r == her] == []  # her rows, active or not
    # Her place went to the one waiting, who is told once.
    assert sum("候补成功" in (m.text or "") for m in await late.inbox()) == 1
    await admin.press_data(f"su:l:{first}")
    assert "报名 2/2 人" in admin.text and "neighbour-1" in admin.text, admin.text
    assert "王芳" not in admin.text and "13812345678" not in admin.text
    await resident.say("我的数据")
    assert "· 活动报名：（无）" in resident.text


async def test_my_data_lists_sign_ups(app: App, admin: ChatUser, resident: ChatUser) -> None:  # noqa: F811
    first = await schedule(admin, "爱心义剪\n第二行不显示", "全部群", "立即", signup="2 明天 15:00")
    second = await schedule(admin, "社区义诊", "全部群", "立即", signup="30 明天 09:00")
    await sign_up(resident, first)
    await sign_up(resident, second)
    await resident.say(f"取消报名 {second}")
    await resident.say("我的数据")
    lines = resident.text.split("\n")
    start = lines.index("· 活动报名：")
    assert lines[start + 1:start + 3] == [
        f"  #{first} 爱心义剪 第二行不显示｜11-27 15:00｜已报名",
        f"  #{second} 社区义诊｜11-27 09:00｜已取消",
    ]


async def test_a_ticket_routed_past_an_unreachable_leader_tells_the_level_that_got_it(
    app: App, resident: ChatUser
) -> None:
    guide = ChatUser(app, "guide-g01")
    await bind(app, guide, "g01-guide")  # no leader bound: the card went to the guide
    await file_report(resident)
    assert (await guide.inbox())[0].text.startswith("【新工单 #1】")
    await resident.say("/mytickets")
    await resident.press("#1")
    await resident.press("补充信息")
    await resident.say("楼上的灯也不亮了")
    assert (await guide.inbox())[-1].text == "【工单 #1 补充信息】\n楼上的灯也不亮了"
    await erase(resident)
    assert await cancelled_notices(guide) == 1
