"""Big, clear options (issue 13, 适老化): the lists shown outside a dialog — 近期活动, 我的工单 and
公告列表 — show nine at a time with 更多 / 上一页 (handlers/paging.py), and page data that is not
a page of the list is refused politely."""

from __future__ import annotations

import re

import pytest

from bot.app import App
from tests.chat import ChatUser, bind, dialogs, file_report, pause

PAGING = ("更多", "上一页")


@pytest.fixture
async def admin(app: App) -> ChatUser:
    user = ChatUser(app, "admin-1")
    await bind(app, user, "sd-admin-1")
    return user


async def activities(app: App, admin: ChatUser, count: int, places: int | None = 5) -> list[int]:
    """`count` announcements posted now (activities with `places`, or plain ones with None)."""
    ids = []
    for n in range(count):
        pause(app)  # a person posting many announcements takes time (the flood guard)
        await admin.say("发布公告")
        await admin.say(f"活动{n + 1}")
        await admin.press("全部群")
        await admin.say("立即")
        if places is None:
            await admin.press("不需要报名")
        else:
            await admin.say(f"{places} 周六上午九点")
        await admin.press("确认发布")
        found = re.search(r"公告 #(\d+)", admin.text)
        assert found, admin.text
        ids.append(int(found.group(1)))
    return ids


def listed(user: ChatUser) -> list[str]:
    return [label for label in user.options if label not in PAGING]


async def test_recent_activities_page_past_nine(app: App, admin: ChatUser, resident: ChatUser) -> None:
    ids = await activities(app, admin, 11)
    await resident.say("近期活动")
    assert resident.text.startswith("近期可报名的活动（点一个报名）") and "（第 1/2 页）" in resident.text
    assert len(listed(resident)) == 9 and resident.options[-1] == "更多"
    first = listed(resident)
    await resident.press("更多")
    assert "（第 2/2 页）" in resident.text
    assert resident.options[-1] == "上一页" and "更多" not in resident.options
    assert [label.split()[0] for label in first + listed(resident)] == [f"#{i}" for i in ids]
    await resident.say("上一页")  # typed, as read
    assert listed(resident) == first
    await resident.press("更多")
    await resident.press(f"#{ids[10]} ")  # an activity of the second page can be joined
    assert "请留下姓名和电话" in resident.text


async def test_my_tickets_page_past_nine(app: App, resident: ChatUser) -> None:
    for _ in range(10):
        pause(app)
        await file_report(resident)
    await resident.say("我的工单")
    assert "（第 1/2 页）" in resident.text
    assert len(listed(resident)) == 9 and resident.options[-1] == "更多"
    await resident.say("更多")
    assert "（第 2/2 页）" in resident.text and len(listed(resident)) == 1
    [last] = listed(resident)
    await resident.press(last)
    assert re.search(r"工单 #\d+", resident.text), resident.text


async def test_announcement_list_pages_past_nine_and_keeps_new(app: App, admin: ChatUser) -> None:
    ids = await activities(app, admin, 10, places=None)
    await admin.say("公告列表")
    assert "（第 1/2 页）" in admin.text
    assert [label.split()[0] for label in admin.options[:9]] == [f"#{i}" for i in reversed(ids)][:9]
    assert admin.options[9:] == ["更多", "发布公告"]
    await admin.press("更多")
    assert [label.split()[0] for label in admin.options[:1]] == [f"#{ids[0]}"]
    assert admin.options[1:] == ["上一页", "发布公告"]


@pytest.mark.parametrize("data", ["lp:act:2", "lp:act:99999999999", "lp:act:-1", "lp:act:x", "lp:zz:1", "lp:"])
async def test_forged_page_data_is_refused_politely(app: App, admin: ChatUser, resident: ChatUser,
                                                    data: str) -> None:
    await activities(app, admin, 10)
    await resident.press_data(data)
    assert "报名成功" not in resident.text
    if data == "lp:act:2":  # a list that exists, at a page it does not have: its nearest page
        assert "没有这一页了" in resident.text and "（第 2/2 页）" in resident.text
        assert resident.options[-1] == "上一页"
    else:  # data naming no page of any list: a stale option, answered with the menu
        assert "这个选项已经失效了" in resident.text


async def test_a_list_shown_in_a_report_keeps_the_draft_and_other_text_keeps_its_meaning(
    app: App, resident: ChatUser,
) -> None:
    await file_report(resident)
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("/mytickets")  # a look at the list in the middle of a report
    assert [d.dialog.flow for d in await dialogs(app)] == ["report"]  # the draft is not replaced
    await resident.say("更多")  # inside the report the words are the report's input
    assert "没有这一页了" not in resident.text

    fresh = ChatUser(app, "resident-2")
    await fresh.say("我的工单")
    await fresh.say("更多")  # no list of pages remembered: ordinary text
    assert "没有这一页了" not in fresh.text and "（第" not in fresh.text
