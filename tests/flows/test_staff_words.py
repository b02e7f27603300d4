"""Transcripts of how staff talk (issue 13): each role's help, /tickets labelled by state, and the
三率 asked for in words with a period (「统计 上月」「/stats 2026-10」)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import App
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, file_report, pause, ticket_row

# -- help: each role reads the commands it may use, and no others ---------------------------

RESIDENT_WORDS = ("/report", "/mytickets", "/mydata")
LEADER_WORDS = ("/tickets", "待办", "受理 123", "办结 123", "转派 123")
STATS_WORDS = ("/stats", "统计", "上月")
ADMIN_WORDS = ("/announce", "发布公告", "/announcements", "公告列表", "/bindgroup", "fengshan-bot invite")


def _has_all(text: str, words: tuple[str, ...]) -> bool:
    return all(word in text for word in words)


def _has_none(text: str, words: tuple[str, ...]) -> bool:
    return not any(word in text for word in words)


async def test_a_residents_help_lists_only_resident_commands(resident: ChatUser) -> None:
    await resident.say("帮助")
    assert _has_all(resident.text, RESIDENT_WORDS), resident.text
    assert _has_none(resident.text, ("/tickets", "受理", "/stats", "统计", "/announce", "公告", "/bindgroup", "invite"))


async def test_a_leaders_help_adds_the_ticket_commands_but_no_admin_tools(app: App, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await leader.say("/help")
    assert _has_all(leader.text, RESIDENT_WORDS + LEADER_WORDS), leader.text
    assert _has_none(leader.text, ("/stats", "统计", "/announce", "公告", "/bindgroup", "invite"))


async def test_community_staff_help_adds_the_stats(app: App) -> None:
    staff = ChatUser(app, "staff-1")
    await bind(app, staff, "longchi-staff-1")
    await staff.say("帮助")
    assert _has_all(staff.text, RESIDENT_WORDS + LEADER_WORDS + STATS_WORDS), staff.text
    assert _has_none(staff.text, ("/announce", "公告", "/bindgroup", "invite"))


async def test_an_admins_help_lists_the_admin_commands(app: App) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.say("帮助")
    assert _has_all(admin.text, RESIDENT_WORDS + LEADER_WORDS + STATS_WORDS + ADMIN_WORDS), admin.text


# -- /tickets: each card says what state its ticket is in ----------------------------------


async def test_tickets_labels_each_card_by_its_state(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    for description in ("楼道灯坏了，晚上很黑", "水管漏水，流到楼下了", "门口路灯不亮了"):
        await file_report(resident, description=description)
        pause(app)
    await leader.say("受理 2")
    await leader.say("办结 3 已更换灯泡")
    await resident.press_notice("不满意")  # #3 is reopened (one level up, still grid G01's)
    await resident.press("跳过")  # 不满意 asks why first; no reason
    assert (await ticket_row(app, 3)).status == "reopened"

    await leader.say("/tickets")
    titles = [line for line in leader.text.splitlines() if line.startswith("【")]
    assert titles == ["【待受理 #1】", "【处理中 #2】", "【重新办理 #3】"], leader.text
    assert "新工单" not in leader.text


# -- the 三率 in words, with a period -------------------------------------------------------

# 2026-10-31 23:30 in Shanghai: the last half hour of October, local time.
OCTOBER_LAST_HALF_HOUR = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OCTOBER_LAST_HALF_HOUR)


@pytest.fixture
async def month_edge(app: App, clock: FakeClock, resident: ChatUser) -> None:
    """#1 filed at 10-31 23:30 local (October), #2 at 11-01 00:30 local (November); then the
    clock moves on to Thursday 2026-11-26 10:00 local."""
    await file_report(resident)
    clock.advance(hours=1)
    await file_report(resident, description="水管漏水，流到楼下了")
    clock.advance(days=25, hours=9, minutes=30)
    assert clock.now() == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def head(user: ChatUser) -> list[str]:
    return user.text.splitlines()[:2]


async def test_stats_words_take_a_period_in_local_time(app: App, month_edge: None) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    october = ["【三率】丰山街道 · 2026年10月", "工单 1 件"]
    await admin.say("统计 上月")
    assert head(admin) == october, admin.text
    await admin.say("统计上月")
    assert head(admin) == october
    await admin.say("三率：2026-10")
    assert head(admin) == october
    await admin.say("/stats 2026-10")
    assert head(admin) == october
    await admin.say("三率 2026-10")
    assert head(admin) == october
    await admin.say("三率 本月")
    assert head(admin) == ["【三率】丰山街道 · 2026年11月（截至 11-26 10:00）", "工单 1 件"]
    await admin.say("统计 上周")  # Monday 16 to Sunday 22 November
    assert head(admin) == ["【三率】丰山街道 · 11月16日–11月22日", "工单 0 件"]
    await admin.say("统计 本季度")
    assert head(admin) == ["【三率】丰山街道 · 2026年第4季度（截至 11-26 10:00）", "工单 2 件"]
    await admin.say("统计 今年")
    assert head(admin) == ["【三率】丰山街道 · 2026年（截至 11-26 10:00）", "工单 2 件"]
    await admin.say("/stats 2026")
    assert head(admin) == ["【三率】丰山街道 · 2026年（截至 11-26 10:00）", "工单 2 件"]
    await admin.say("统计 G01 上月")
    assert head(admin) == ["【三率】G01 龙池花园第一网格 · 2026年10月", "工单 1 件"]


@pytest.mark.parametrize("text", ["统计 2026-13", "/stats 上上月", "三率 11月份"])
async def test_a_bad_period_lists_the_forms(app: App, text: str) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.say(text)
    assert admin.text.startswith("看不懂时段「"), admin.text
    assert _has_all(admin.text, ("本周", "上周", "本月", "上月", "本季度", "今年", "2026-10", "2026")), admin.text
    assert "【三率】" not in admin.text


async def test_stats_words_for_community_staff_leaders_and_residents(
    app: App, month_edge: None, resident: ChatUser, leader: ChatUser,
) -> None:
    staff = ChatUser(app, "staff-1")
    await bind(app, staff, "longchi-staff-1")
    await staff.say("统计 上月")
    assert head(staff) == ["【三率】龙池社区 · 2026年10月", "工单 1 件"]

    await bind(app, leader, "g01-leader")
    await leader.say("统计 上月")
    assert leader.text == "抱歉，三率统计仅供街道管理员和社区工作人员查看。"

    # A resident's 「统计 …」 is ordinary text: offered as a report, never the figures.
    await resident.say("统计 上月")
    assert "三率" not in resident.text and "把这段话作为反映提交" in resident.options
    # Nor is a staff member's text that only starts with 统计.
    await staff.say("统计一下楼里独居老人")
    assert "三率" not in staff.text and "把这段话作为反映提交" in staff.options
