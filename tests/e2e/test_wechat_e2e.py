"""The WeChat official account end to end: signed, encrypted callbacks to the real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import build_app
from bot.config import Config
from bot.config_channels import WeChatSecurity
from storage import inbox, tickets
from storage.clock import FakeClock
from tests.chat import query
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import WeChatPlatform, WeChatRun, message_xml, start_wechat, wechat_config

RESIDENT = "oResident0000000000000001"
LEADER = "oLeader00000000000000000001"


@pytest.fixture
def fake(wechat_fake: FakeWeChatAPI) -> FakeWeChatAPI:
    return wechat_fake


@pytest.fixture
async def run(config: Config, fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
              session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


def option_number(text: str, label: str) -> str:
    """The number in front of `label` in a numbered list ("3. 水电维修")."""
    for line in text.splitlines():
        number, _, rest = line.partition(". ")
        if number.isdigit() and rest.strip() == label:
            return number
    raise AssertionError(f"no option {label!r} in:\n{text}")


async def report_in_longchi(run: WeChatRun) -> str:
    """微服务 → 我要反映 → a report in safe mode; returns the last passive reply."""
    wx = run.platform
    answer = await wx.click(RESIDENT, "i:report")
    assert "问题类别" in answer.text, answer
    answer = await wx.text(RESIDENT, option_number(answer.text, "水电维修"))
    assert "描述问题" in answer.text, answer
    answer = await wx.text(RESIDENT, "3栋楼道灯坏了 <a href=\"http://x\">点我</a>")
    assert "哪个社区" in answer.text, answer
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    assert "哪一个" not in answer.text and "单元和门牌号" in answer.text, answer  # exact: taken at once
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))  # issue 13: the flat
    assert "留个电话" in answer.text, answer
    answer = await wx.text(RESIDENT, "13812345678")
    assert "请确认" in answer.text, answer
    answer = await wx.text(RESIDENT, option_number(answer.text, "提交"))
    return answer.text


@pytest.mark.both_engines
async def test_resident_reports_and_leader_acknowledges_by_text(run: WeChatRun, fake: FakeWeChatAPI) -> None:
    wx = run.platform
    welcome = await wx.subscribe(RESIDENT)
    assert "微服务" in welcome.text and welcome.seconds < 1.0
    bound = await run.bind(LEADER, "g01-leader")
    assert "绑定成功" in bound.text

    confirmation = await report_in_longchi(run)
    assert "工单号 #1" in confirmation and "龙池花园第一网格" in confirmation

    card = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == LEADER)
    content = card.body["text"]["content"]  # type: ignore[index]
    assert "新工单 #1" in content and "电话：13812345678" in content  # issue 13: full for the handler
    # The resident's markup reaches the leader inert: WeChat would render a real <a> as a link.
    assert "<a href" not in content and "＜a href" in content
    assert "1. 受理" in content

    answer = await wx.text(LEADER, "受理 1")
    assert "已受理" in answer.text and answer.seconds < 1.0
    notice = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == RESIDENT
                                 and "支部网格长" in c.body.get("text", {}).get("content", ""))
    assert "#1" in notice.body["text"]["content"]  # type: ignore[index]
    async with run.app.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        actions = [e.action for e in await tickets.events_of(conn, 1)]
    assert ticket is not None and ticket.status == "acknowledged"
    assert actions == ["created", "routed", "notified", "acknowledged"]


async def test_every_passive_reply_is_fast(run: WeChatRun) -> None:
    wx = run.platform
    answers = [await wx.click(RESIDENT, "m:weifuwu"), await wx.click(RESIDENT, "i:report"),
               await wx.text(RESIDENT, "1"), await wx.text(RESIDENT, "返回")]
    assert all(a.status == 200 and a.text for a in answers), answers
    assert max(a.seconds for a in answers) < 1.0


@pytest.mark.both_engines  # WeChat's retries, deduped by the inbox's unique key on either engine
async def test_the_same_msgid_four_times_makes_one_ticket(run: WeChatRun, fake: FakeWeChatAPI) -> None:
    wx = run.platform
    answer = await wx.click(RESIDENT, "i:report")
    answer = await wx.text(RESIDENT, option_number(answer.text, "水电维修"))
    await wx.text(RESIDENT, "楼道灯坏了")
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))  # issue 13: the flat
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    assert "请确认" in answer.text, answer
    submit = wx.text_fields(RESIDENT, option_number(answer.text, "提交"))
    first, *retries = await asyncio.gather(*(wx.post(submit) for _ in range(3)))
    later = await wx.post(submit)
    assert "工单号 #1" in first.text
    assert all(r.text == first.text for r in [*retries, later])
    assert await query(run.app, "SELECT COUNT(*) FROM tickets") == [(1,)]
    assert await query(run.app, "SELECT COUNT(*) FROM inbox WHERE channel = 'wechat' AND platform_id = ?",
                       f"msg:{submit['MsgId']}") == [(1,)]


async def test_photo_and_location_reach_the_ticket_and_the_leader(run: WeChatRun, fake: FakeWeChatAPI) -> None:
    wx = run.platform
    await run.bind(LEADER, "g01-leader")
    answer = await wx.click(RESIDENT, "i:report")
    await wx.text(RESIDENT, option_number(answer.text, "水电维修"))
    photo = await wx.image(RESIDENT, "MEDIA-1", "http://mmbiz.example/pic1.jpg")
    assert photo.status == 200 and photo.text
    place = await wx.location(RESIDENT, 32.3, 118.31, "龙池花园")
    assert place.status == 200 and place.text
    answer = await wx.text(RESIDENT, "楼道灯坏了")
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))  # issue 13: the flat
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    assert "照片：1 张" in answer.text, answer
    answer = await wx.text(RESIDENT, option_number(answer.text, "提交"))
    assert "工单号 #1" in answer.text
    image = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == LEADER
                                and c.body.get("msgtype") == "image")
    assert image.body["image"]["media_id"] == "MEDIA-1"  # type: ignore[index]
    rows = await query(run.app, "SELECT ref FROM ticket_photos WHERE ticket_id = 1")
    assert rows == [("MEDIA-1|http://mmbiz.example/pic1.jpg",)]
    ticket = await query(run.app, "SELECT latitude, longitude FROM tickets WHERE id = 1")
    assert ticket == [(32.3, 118.31)]


async def test_leader_resolves_and_reassigns_by_text(run: WeChatRun, fake: FakeWeChatAPI) -> None:
    wx = run.platform
    await run.bind(LEADER, "g01-leader")
    await report_in_longchi(run)
    answer = await wx.text(LEADER, "办结 1 已更换灯泡")
    assert "#1" in answer.text and answer.status == 200
    rating = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == RESIDENT
                                 and "已办结" in c.body.get("text", {}).get("content", ""))
    content = rating.body["text"]["content"]  # type: ignore[index]
    answer = await wx.text(RESIDENT, option_number(content, "满意"))
    assert "感谢" in answer.text
    ticket = await query(run.app, "SELECT status, rating FROM tickets WHERE id = 1")
    assert ticket == [("closed", "satisfied")]
    refused = await wx.text(RESIDENT, "受理 1")
    assert refused.status == 200
    assert await query(run.app, "SELECT COUNT(*) FROM ticket_events WHERE ticket_id = 1 AND action = 'acknowledged'") \
        == [(0,)]


async def test_past_the_deadline_the_answer_is_pushed(config: Config, fake: FakeWeChatAPI, clock: FakeClock,
                                                      tmp_path: Path, session: aiohttp.ClientSession) -> None:
    run = await start_wechat(config, fake, clock, tmp_path / "slow.db", session, reply_deadline=0.0001)
    try:
        answer = await run.platform.click(RESIDENT, "i:report")
        assert answer.text == "正在处理，稍后把结果发给您。"
        pushed = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == RESIDENT)
        assert "问题类别" in pushed.body["text"]["content"]  # type: ignore[index]
        rows = await query(run.app, "SELECT status, response FROM inbox")
        assert rows == [("done", None)]
    finally:
        await run.close()


async def test_a_callback_left_pending_by_a_crash_is_handled_at_start(
        config: Config, fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
        session: aiohttp.ClientSession) -> None:
    xml = message_xml(WeChatPlatform(session, "", clock).text_fields(RESIDENT, "你好", msg_id=42))
    crashed = await build_app(wechat_config(config, fake), clock, tmp_path / "crash.db")
    async with crashed.db.transaction() as conn:
        await inbox.store(conn, "wechat", "msg:42", xml, clock.now())
    await crashed.close()
    run = await start_wechat(config, fake, clock, tmp_path / "crash.db", session)
    try:
        pushed = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == RESIDENT)
        assert pushed.body["msgtype"] == "text"  # type: ignore[index]
        assert await query(run.app, "SELECT status FROM inbox") == [("done",)]
        again = await run.platform.post(run.platform.text_fields(RESIDENT, "你好", msg_id=42))
        assert again.status == 200 and again.text == ""  # WeChat's retry: handled already, no second answer
    finally:
        await run.close()


async def test_follow_greets_and_voice_starts_a_report(run: WeChatRun) -> None:
    wx = run.platform
    welcome = await wx.subscribe(RESIDENT)
    assert welcome.text.startswith("您好，欢迎关注丰山街道「微丰山」") and "我要反映" in welcome.text
    video = await wx.post(wx.base(RESIDENT, "video") | {"MediaId": "V2", "ThumbMediaId": "T2", "MsgId": 100})
    assert "暂不支持视频" in video.text
    # Issue 13 (适老化): a voice message without a transcript starts a report with it attached.
    voice = await wx.post(wx.base(RESIDENT, "voice") | {"MediaId": "V1", "Format": "amr", "MsgId": 99})
    assert "已收到语音（共 1 条）" in voice.text and "问题类别" in voice.text
    unfollow = await wx.post(wx.base(RESIDENT, "event") | {"Event": "unsubscribe", "EventKey": ""})
    assert unfollow.status == 200 and unfollow.body == "success"


async def test_leader_taps_a_msgmenu_option(config: Config, fake: FakeWeChatAPI, clock: FakeClock,
                                            tmp_path: Path, session: aiohttp.ClientSession) -> None:
    run = await start_wechat(config, fake, clock, tmp_path / "menu.db", session, msgmenu=True)
    try:
        await run.bind(LEADER, "g01-leader")
        await report_in_longchi(run)
        card = await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == LEADER
                                   and c.body.get("msgtype") == "msgmenu")
        menu = card.body["msgmenu"]  # type: ignore[index]
        assert "新工单 #1" in menu["head_content"]
        ack = next(item for item in menu["list"] if item["content"] == "受理")
        answer = await run.platform.text(LEADER, "受理", menu_id=int(ack["id"]))
        assert "已受理工单 #1" in answer.text
        assert await query(run.app, "SELECT status FROM tickets WHERE id = 1") == [("acknowledged",)]
        # Someone else replaying the leader's menu id gets nothing from it.
        stranger = await run.platform.text("oStranger", "受理", menu_id=int(ack["id"]))
        assert "已受理" not in stranger.text
    finally:
        await run.close()


async def test_compatible_mode_takes_encrypted_callbacks_only(
        config: Config, fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
        session: aiohttp.ClientSession) -> None:
    """Issue 10: a plaintext callback is signed over token, timestamp and nonce only, so compatible
    mode (where WeChat always sends the encrypted part too) refuses it, like safe mode."""
    run = await start_wechat(config, fake, clock, tmp_path / "compat.db", session, WeChatSecurity.COMPATIBLE)
    try:
        encrypted = await run.platform.click(RESIDENT, "i:report")
        wx = run.platform
        plain = await wx.post_raw(message_xml(wx.text_fields(RESIDENT, "1")), wx.query(wx.timestamp(), "n"))
        assert "问题类别" in encrypted.text
        assert plain.status == 400
        assert "请简单描述问题" in (await wx.text(RESIDENT, "1")).text
    finally:
        await run.close()


async def test_a_passive_answer_wakes_no_sender(run: WeChatRun) -> None:
    """An answer that goes back in the HTTP response queues nothing, so no sender is woken (each
    wake costs a database transaction that every handling then waits behind)."""
    telegram, wechat = run.app.notifier.subscribe("telegram"), run.app.notifier.subscribe("wechat")
    answer = await run.platform.subscribe(RESIDENT)
    assert "微服务" in answer.text
    assert not telegram.is_set() and not wechat.is_set()
    await run.bind(LEADER, "g01-leader")
    await report_in_longchi(run)  # the card for the WeChat leader is a push
    assert wechat.is_set() and not telegram.is_set()
