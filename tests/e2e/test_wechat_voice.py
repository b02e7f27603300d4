"""Issue 13 (适老化): WeChat voice messages, with and without WeChat's own transcript, and a
follower's photo whose 3-day media_id has expired by the time it is sent.

Signed, encrypted callbacks go to the real server; what the resident reads is the passive reply,
what the leader gets is what reached the fake WeChat API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from storage import outbox, tickets
from storage.clock import FakeClock
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import WeChatRun, start_wechat

RESIDENT = "oResidentVoice00000000001"
LEADER = "oLeaderVoice0000000000001"


@pytest.fixture
async def run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
              session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def test_a_transcribed_voice_counts_as_typed(run: WeChatRun) -> None:
    """语音识别: the Recognition is a menu word, an answer to the step, a description — and
    WeChat's trailing 「。」 is not part of what was said."""
    wx = run.platform
    answer = await wx.voice(RESIDENT, "VOICE-1", "你好。")
    assert "微服务" in answer.text and "作为反映" not in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-2", "我要反映。")
    assert "问题类别" in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-3", "水电维修。")
    assert "描述问题" in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-4", "楼道灯坏了好几天了。")
    assert "哪个社区" in answer.text, answer
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    assert "描述：楼道灯坏了好几天了\n" in answer.text and "语音" not in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-5", "提交。")
    assert "工单号 #1" in answer.text, answer
    async with run.app.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        kept = await tickets.attachments_of(conn, 1)
    assert ticket is not None and ticket.description == "楼道灯坏了好几天了"
    assert kept == []  # a transcribed voice is words, not an attachment


async def test_a_voice_without_transcript_is_kept_and_reaches_the_leader_as_voice(
        run: WeChatRun, wechat_fake: FakeWeChatAPI) -> None:
    wx = run.platform
    await run.bind(LEADER, "g01-leader")
    answer = await wx.click(RESIDENT, "i:report")
    answer = await wx.text(RESIDENT, option_number(answer.text, "水电维修"))
    answer = await wx.voice(RESIDENT, "VOICE-RAW-1", "")  # 语音识别 heard nothing it could write
    assert "已收到语音（共 1 条）" in answer.text, answer
    answer = await wx.text(RESIDENT, "楼道灯坏了")
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    assert "照片：0 张，语音 1 条" in answer.text, answer
    answer = await wx.text(RESIDENT, option_number(answer.text, "提交"))
    assert "工单号 #1" in answer.text, answer
    async with run.app.db.read() as conn:
        kept = await tickets.attachments_of(conn, 1)
    assert kept == [tickets.Attachment("wechat", "VOICE-RAW-1", tickets.AttachmentKind.VOICE)]
    card = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == LEADER
                                      and "新工单 #1" in c.body.get("text", {}).get("content", ""))
    assert "语音 1 条" in card.body["text"]["content"]  # type: ignore[index]
    voice = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == LEADER
                                       and c.body.get("msgtype") == "voice")
    assert voice.body["voice"] == {"media_id": "VOICE-RAW-1"}  # type: ignore[index]


async def test_a_photo_whose_media_id_expired_is_uploaded_afresh_from_its_pic_url(
        run: WeChatRun, wechat_fake: FakeWeChatAPI) -> None:
    wx = run.platform
    await run.bind(LEADER, "g01-leader")
    answer = await wx.click(RESIDENT, "i:report")
    await wx.text(RESIDENT, option_number(answer.text, "水电维修"))
    await wx.image(RESIDENT, "WXPIC-OLD", wechat_fake.pic_url("old.jpg", b"\xff\xd8 still at the PicUrl"))
    wechat_fake.expire_media("WXPIC-OLD")  # WeChat keeps a follower's media 3 days
    await wx.text(RESIDENT, "楼道灯坏了")
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "提交"))
    image = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == LEADER
                                       and c.body.get("msgtype") == "image")
    media_id = image.body["image"]["media_id"]  # type: ignore[index]
    assert ("image", media_id, b"\xff\xd8 still at the PicUrl") in wechat_fake.uploads
    async with run.app.db.read() as conn:
        rows = await outbox.rows_for(conn, "wechat", LEADER)
    photo_row = next(r for r in rows if r.payload.get("photo", "").startswith("WXPIC-OLD"))
    assert photo_row.status == "sent"
    assert any(a.errcode == 40007 and a.call.body is not None and a.call.body.get("msgtype") == "image"
               for a in wechat_fake.attempts)  # the first try named the expired media_id
