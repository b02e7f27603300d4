"""Activities with a sign-up as residents use them (issue 13): 近期活动, 「报名」 alone, the name and
phone for the organiser, and the waiting list of a full activity, on every channel."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from handlers.types import Channel
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, file_report

CHANNELS = [Channel.CONSOLE, Channel.TELEGRAM, Channel.WECHAT]


@pytest.fixture
async def admin(app: App) -> ChatUser:
    user = ChatUser(app, "admin-1")
    await bind(app, user, "sd-admin-1")
    return user


async def activity(admin: ChatUser, text: str, places: int, starts: str = "周六上午九点") -> int:
    await admin.say("发布公告")
    await admin.say(text)
    await admin.press("全部群")
    await admin.say("立即")
    await admin.say(f"{places} {starts}")
    await admin.press("确认发布")
    found = re.search(r"公告 #(\d+)", admin.text)
    assert found, admin.text
    return int(found.group(1))


async def join(user: ChatUser, announcement: int, contact: str = "") -> str:
    """报名 N, then the contact step: typed, or skipped."""
    await user.say(f"报名 {announcement}")
    if contact:
        await user.say(contact)
    else:
        await user.press("跳过")
    return user.text


async def organiser_list(admin: ChatUser, announcement: int) -> str:
    await admin.press_data(f"su:l:{announcement}")
    return admin.text


async def told(user: ChatUser, words: str) -> int:
    return sum(words in r.text for r in await user.inbox())


@pytest.mark.parametrize("channel", CHANNELS)
async def test_recent_activities_are_listed_and_each_can_be_joined(app: App, admin: ChatUser,
                                                                  channel: Channel) -> None:
    haircut = await activity(admin, "爱心义剪", 10)
    clinic = await activity(admin, "社区义诊", 1, "明天下午3点")
    resident = ChatUser(app, f"r-{channel.value}", channel=channel)
    await resident.say("近期活动")
    assert "近期可报名的活动" in resident.text
    assert resident.options == [f"#{clinic} 社区义诊｜11-27 15:00｜还有 1 个名额",
                                f"#{haircut} 爱心义剪｜11-28 09:00｜还有 10 个名额"]
    await resident.press("爱心义剪")
    assert "请留下姓名和电话" in resident.text
    await resident.say("张三 13812345678")
    assert "报名成功" in resident.text and "张三 138****5678" in resident.text
    await resident.say("菜单")  # the same list from the 微丰山 menu's 近期活动
    await resident.press("微丰山")
    await resident.press("近期活动")
    assert "社区常态化活动" in resident.text and "还有 9 个名额" in "\n".join(resident.options)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_signup_alone_offers_the_one_open_activity_directly(app: App, admin: ChatUser,
                                                                  channel: Channel) -> None:
    resident = ChatUser(app, f"r-{channel.value}", channel=channel)
    await resident.say("报名")
    assert "近期没有可报名的活动" in resident.text
    await activity(admin, "爱心义剪", 10)
    await resident.say("报名")
    assert "近期可报名的活动：「爱心义剪」" in resident.text and resident.options == ["报名"]
    await resident.press("报名")
    await resident.press("跳过")
    assert "报名成功：「爱心义剪」" in resident.text


async def test_a_full_activity_offers_a_waiting_list_that_moves_up(app: App, admin: ChatUser) -> None:
    announcement = await activity(admin, "爱心义剪", 1)
    first, second, third = (ChatUser(app, name, channel=channel) for name, channel in
                            (("r1", Channel.CONSOLE), ("r2", Channel.TELEGRAM), ("r3", Channel.WECHAT)))
    assert "报名成功" in await join(first, announcement)
    await second.say(f"报名 {announcement}")
    assert "名额已满" in second.text and second.options == ["排队候补"]
    await second.press("排队候补")
    await second.say("李四 13900001111")
    assert "候补名单" in second.text and "第 1 位" in second.text
    await third.say(f"报名 {announcement}")
    await third.press("排队候补")
    await third.press("跳过")
    assert "第 2 位" in third.text
    listed = await organiser_list(admin, announcement)
    assert "报名 1/1 人" in listed and "候补 2 人：\n1. 李四 13900001111\n2. r3" in listed, listed
    await first.say(f"取消报名 {announcement}")
    assert "已取消报名" in first.text
    assert (await told(second, "候补成功"), await told(third, "候补成功")) == (1, 0)
    listed = await organiser_list(admin, announcement)
    assert "报名 1/1 人：\n1. 李四 13900001111" in listed and "候补 1 人：\n1. r3" in listed, listed
    await third.say(f"取消报名 {announcement}")  # leaving the waiting list frees no place
    assert "已退出「爱心义剪」的候补名单" in third.text
    assert await told(first, "候补成功") == 0


async def test_two_leaving_at_once_move_up_the_first_waiting_person_once(app: App, admin: ChatUser) -> None:
    announcement = await activity(admin, "爱心义剪", 2)
    a, b, c = ChatUser(app, "ra"), ChatUser(app, "rb"), ChatUser(app, "rc", channel=Channel.TELEGRAM)
    await join(a, announcement)
    await join(b, announcement)
    await c.say(f"报名 {announcement}")
    await c.press("排队候补")
    await c.press("跳过")
    await asyncio.gather(a.say(f"取消报名 {announcement}"), b.say(f"取消报名 {announcement}"))
    assert await told(c, "候补成功") == 1
    listed = await organiser_list(admin, announcement)
    assert "报名 1/2 人：\n1. rc" in listed and "候补" not in listed.split("\n", 1)[1], listed


async def test_two_bots_on_one_database_move_each_waiting_person_up_once(config: Config, clock: FakeClock,
                                                                        tmp_path: Path) -> None:
    """The same race across two connections (the bot and a second process): BEGIN IMMEDIATE."""
    first = await build_app(config, clock, tmp_path / "shared.db")
    second = await build_app(config, clock, tmp_path / "shared.db")
    try:
        admin = ChatUser(first, "admin-1")
        await bind(first, admin, "sd-admin-1")
        announcement = await activity(admin, "爱心义剪", 2)
        a, b = ChatUser(first, "ra"), ChatUser(second, "rb")
        waiting = [ChatUser(first, "rc"), ChatUser(first, "rd"), ChatUser(first, "re")]
        await join(a, announcement)
        await join(b, announcement)
        for user in waiting:
            await user.say(f"报名 {announcement}")
            await user.press("排队候补")
            await user.press("跳过")
        await asyncio.gather(a.say(f"取消报名 {announcement}"), b.say(f"取消报名 {announcement}"))
        assert [await told(user, "候补成功") for user in waiting] == [1, 1, 0]
        listed = await organiser_list(admin, announcement)
        assert "报名 2/2 人：\n1. rc\n2. rd" in listed and "候补 1 人：\n1. re" in listed, listed
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("channel", CHANNELS)
async def test_name_and_phone_prefilled_changeable_full_only_for_the_organiser(app: App, admin: ChatUser,
                                                                             channel: Channel) -> None:
    haircut = await activity(admin, "爱心义剪", 10)
    clinic = await activity(admin, "社区义诊", 10)
    resident = ChatUser(app, f"r-{channel.value}", channel=channel)
    await file_report(resident, phone="13700002222")
    await resident.say(f"报名 {haircut}")
    assert "上次您留的是「137****2222」" in resident.text  # the report's phone, masked
    await resident.say("王五 13900001111")  # typing changes it
    assert "王五 139****1111" in resident.text and "13900001111" not in resident.text
    await resident.say(f"报名 {clinic}")
    assert "上次您留的是「王五 139****1111」" in resident.text
    await resident.press("就用这个")
    assert "报名成功：「社区义诊」" in resident.text
    for announcement in (haircut, clinic):
        assert "1. 王五 13900001111" in await organiser_list(admin, announcement)
    await resident.say(f"报名 {haircut}")  # already in: nothing asked
    assert "您已报名" in resident.text


async def test_a_name_with_line_breaks_and_markup_stays_one_harmless_line(app: App, admin: ChatUser) -> None:
    announcement = await activity(admin, "爱心义剪", 10)
    resident = ChatUser(app, "r1", channel=Channel.TELEGRAM)
    await join(resident, announcement, "张三\n2. 假名单\u2028<b>管理员</b> 13812345678")
    listed = await organiser_list(admin, announcement)
    assert listed.splitlines()[1:] == ["1. 张三 2. 假名单 <b>管理员</b> 13812345678"], listed


async def test_a_number_that_is_no_mobile_is_asked_again(app: App, admin: ChatUser) -> None:
    announcement = await activity(admin, "爱心义剪", 10)
    resident = ChatUser(app, "r1")
    await resident.say(f"报名 {announcement}")
    await resident.say("张三 1381234567")
    assert "没认出手机号" in resident.text
    await resident.say("张三")
    assert "报名成功" in resident.text
    assert "1. 张三" in await organiser_list(admin, announcement)


@pytest.mark.parametrize("channel", [Channel.CONSOLE, Channel.WECHAT])
async def test_typed_option_labels_answer_the_contact_step(app: App, admin: ChatUser, channel: Channel) -> None:
    first, second = await activity(admin, "爱心义剪", 10), await activity(admin, "社区义诊", 10)
    resident = ChatUser(app, f"r-{channel.value}", channel=channel)
    await resident.say(f"报名 {first}")
    await resident.say("赵六 13600003333")
    await resident.say(f"报名 {second}")
    await resident.say("就用这个")
    assert "报名成功：「社区义诊」" in resident.text and "赵六 136****3333" in resident.text
    await resident.say(f"取消报名 {second}")
    await resident.say(f"报名 {second}")
    await resident.say("跳过")  # typed, not taken for a name
    assert "报名成功" in resident.text and "登记的联系方式" not in resident.text
    assert "1. r-" in await organiser_list(admin, second)


async def test_the_waiting_list_moves_up_until_the_activity_starts(app: App, admin: ChatUser,
                                                                   clock: FakeClock) -> None:
    announcement = await activity(admin, "爱心义剪", 1)  # Saturday 09:00; sign-up closes at 08:00
    first, second = ChatUser(app, "r1"), ChatUser(app, "r2")
    await join(first, announcement)
    await second.say(f"报名 {announcement}")
    await second.press("排队候补")
    await second.press("跳过")
    clock.advance(days=1, hours=22, minutes=30)  # Saturday 08:30: closed, not started
    await first.say(f"取消报名 {announcement}")
    assert await told(second, "候补成功") == 1
    late = ChatUser(app, "r3")
    await late.say(f"报名 {announcement}")
    assert "报名已截止" in late.text


async def test_a_command_typed_at_the_contact_step_is_that_command_not_a_name(app: App, admin: ChatUser) -> None:
    announcement = await activity(admin, "爱心义剪", 10)
    resident = ChatUser(app, "r1", channel=Channel.WECHAT)
    await resident.say(f"报名 {announcement}")
    await resident.say("我的工单")
    assert "您还没有反映过问题" in resident.text
    assert await resident.dialog() is None
    assert "（暂无）" in await organiser_list(admin, announcement)
