"""Issue 13: evidence reaches the other side as media, across platforms. One bot runs both the
Telegram channel (against the fake Bot API) and the WeChat account (signed callbacks, the fake
WeChat API): a WeChat resident's photo reaches a Telegram leader as a photo (media/get, then a
multipart sendPhoto), the leader's 办结 photo reaches the resident (getFile + download, then
media/upload and an image 客服消息), and a file that cannot be fetched is recorded while the
words still arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import build_app
from bot.config import Config
from bot.http_server import HttpServer
from bot.ratelimit import ChatRateLimits
from bot.run_channels import run_channels
from handlers.dispatcher import create_invite
from storage import outbox
from storage.clock import FakeClock
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_api import MEDIA_GET, FakeWeChatAPI
from tests.telegram_harness import TelegramRun, config_for
from tests.wechat_harness import CALLBACK, WeChatPlatform, wechat_config, wechat_settings

RESIDENT = "oResidentMedia00000000001"
LEADER = 700001  # the G01 leader, on Telegram


@dataclass
class Both:
    app: object
    stop: asyncio.Event
    task: asyncio.Task
    wx: WeChatPlatform


@pytest.fixture
async def both(config: Config, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI, clock: FakeClock,
               tmp_path: Path, session: aiohttp.ClientSession) -> AsyncIterator[Both]:
    app = await build_app(config_for(wechat_config(config, wechat_fake), fake), clock, tmp_path / "both.db")
    server = HttpServer(app.config.http)
    stop = asyncio.Event()
    settings = wechat_settings().model_copy(update={"telegram_token": fake.token})
    task = asyncio.create_task(run_channels(app, settings, stop, ChatRateLimits(private_burst=100), http=server))
    await fake.wait_for_call("setMyCommands")
    wx = WeChatPlatform(session, f"http://127.0.0.1:{server.port}{CALLBACK}", clock, fake=wechat_fake)
    async with app.db.transaction() as conn:
        code = await create_invite(conn, "g01-leader", clock.now())
    mark = len(fake.sent)
    fake.push_text(LEADER, f"/bind {code}")
    await fake.wait_for(lambda m: m.chat_id == LEADER and "绑定成功" in (m.text or ""), after=mark)
    yield Both(app, stop, task, wx)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await app.close()


async def report_with_photo(wx: WeChatPlatform, media_id: str, pic_url: str) -> None:
    answer = await wx.click(RESIDENT, "i:report")
    await wx.text(RESIDENT, option_number(answer.text, "水电维修"))
    await wx.image(RESIDENT, media_id, pic_url)
    await wx.text(RESIDENT, "楼道灯坏了")
    answer = await wx.text(RESIDENT, "龙池花园3号楼")  # exact: straight to the flat step
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "提交"))
    assert "工单号 #1" in answer.text, answer


async def test_a_wechat_photo_reaches_a_telegram_leader_and_the_resolve_photo_comes_back(
        both: Both, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI) -> None:
    await report_with_photo(both.wx, "WXPIC-1", wechat_fake.pic_url("pic1.jpg", b"\xff\xd8 from the pic url"))
    photo = await fake.wait_for(lambda m: m.chat_id == LEADER and m.method == "sendPhoto")
    assert photo.text == "工单 #1 的照片"
    assert fake.files[photo.photo or ""] == b"\xff\xd8\xff\xe0WXPIC-1"  # media/get's bytes, uploaded
    assert any(call.path == MEDIA_GET and call.query.get("media_id") == "WXPIC-1" for call in wechat_fake.calls)

    # The leader answers with a photo of the fixed lamp: the resident sees that photo on WeChat.
    fake.files["tg-fixed-lamp"] = b"\xff\xd8 the fixed lamp"
    fake.push_photo(LEADER, "tg-fixed-lamp", caption="办结 1")
    image = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == RESIDENT
                                       and c.body.get("msgtype") == "image")
    media_id = image.body["image"]["media_id"]  # type: ignore[index]
    assert ("image", media_id, b"\xff\xd8 the fixed lamp") in wechat_fake.uploads
    rating = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == RESIDENT
                                        and "已办结" in c.body.get("text", {}).get("content", ""))
    assert rating is not None


async def test_a_photo_that_cannot_be_fetched_is_recorded_and_the_words_arrive(
        both: Both, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI) -> None:
    # The media_id has expired (3 days) and the PicUrl is gone: nothing a retry can fetch.
    wechat_fake.fail_always(MEDIA_GET, 40007)
    await report_with_photo(both.wx, "WXPIC-OLD", f"{wechat_fake.url}/mmbiz/gone.jpg")
    words = await fake.wait_for(lambda m: m.chat_id == LEADER and "照片暂时无法转发" in (m.text or ""))
    assert words.method == "sendMessage" and words.text == "工单 #1 的照片\n（照片暂时无法转发，可在工作台查看）"
    assert not [m for m in fake.sent if m.chat_id == LEADER and m.method == "sendPhoto"]
    async with both.app.db.read() as conn:  # type: ignore[attr-defined]
        rows = await outbox.rows_for(conn, "telegram", str(LEADER))
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and failed[0].payload["photo"] == "WXPIC-OLD|" + f"{wechat_fake.url}/mmbiz/gone.jpg"
    assert "media: wechat media/get: 40007" in failed[0].last_error and "PicUrl: HTTP 404" in failed[0].last_error


async def test_a_telegram_voice_note_reaches_the_leader_on_telegram_and_words_on_wechat(
        both: Both, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI) -> None:
    """A Telegram voice note (OGG/Opus) plays on Telegram (sendVoice by file id); WeChat plays
    AMR and MP3 only, so the leader's WeChat gets the words and the refusal is recorded."""
    wx_leader = "oLeaderG01onWeChat0000001"
    async with both.app.db.transaction() as conn:  # type: ignore[attr-defined]
        code = await create_invite(conn, "g01-leader", both.app.clock.now())  # type: ignore[attr-defined]
    assert "绑定成功" in (await both.wx.text(wx_leader, f"绑定 {code}")).text
    tg = TelegramRun(app=both.app, stop=both.stop, task=both.task, fake=fake)  # type: ignore[arg-type]
    resident, mark = 800001, len(fake.sent)
    fake.push_text(resident, "/report")
    await tg.reply_to(resident, "问题类别", after=mark)
    await tg.press(resident, "水电维修")
    await tg.reply_to(resident, "描述问题", after=mark)
    fake.push_voice(resident, "tg-voice-1")
    await tg.reply_to(resident, "已收到语音（共 1 条）", after=mark)
    fake.push_text(resident, "楼道灯坏了")
    await tg.reply_to(resident, "哪个社区", after=mark)
    fake.push_text(resident, "龙池花园3号楼")  # exact: straight to the flat step
    await tg.reply_to(resident, "单元和门牌号", after=mark)
    await tg.press(resident, "跳过")
    await tg.reply_to(resident, "留个电话", after=mark)
    await tg.press(resident, "不留电话")
    summary = await tg.reply_to(resident, "请确认", after=mark)
    assert "语音 1 条" in (summary.text or "")
    await tg.press(resident, "提交")
    voice = await fake.wait_for(lambda m: m.chat_id == LEADER and m.method == "sendVoice")
    assert (voice.photo, voice.text) == ("tg-voice-1", "工单 #1 的语音")
    words = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == wx_leader
                                       and "语音暂时无法转发" in c.body.get("text", {}).get("content", ""))
    assert words.body["text"]["content"].startswith("工单 #1 的语音\n")  # type: ignore[index]
    async with both.app.db.read() as conn:  # type: ignore[attr-defined]
        rows = await outbox.rows_for(conn, "wechat", wx_leader)
    [refused] = [r for r in rows if r.status == "failed"]
    assert refused.last_error == "media: WeChat voice does not take audio/ogg"
