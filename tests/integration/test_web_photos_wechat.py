"""A 办结 photo uploaded in the workplace reaches a WeChat resident as a photo, exactly as a chat
办结 photo from another platform does: the real WeChat transport and sender against the fake
WeChat API take the bytes from the database (source "web"), media/upload them, and send the
media_id as a 客服消息 image."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.app import App
from bot.channels.wechat.api import WeChatAPI
from bot.channels.wechat.media import WeChatMedia
from bot.channels.wechat.transport import WeChatTransport
from bot.config_channels import WeChatSettings
from bot.media import MediaStore, with_web_photos
from bot.sender import OutboxSender
from handlers.texts import ZH, Texts
from handlers.types import Channel
from storage import wechat as state
from tests.chat import ChatUser, file_report, ticket_row
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.integration.test_web_photos import PNG, resolve_form
from tests.web_harness import sign_in, workplace

OPENID = "oResidentWebPhoto0000000001"
APP_ID = "wx0123456789abcdef"


async def wrote_and_drained(app: App, sender: OutboxSender) -> None:
    """The resident wrote just now (客服消息 may go, 5 per message); what is queued is sent."""
    async with app.db.transaction() as conn:
        await state.record_interaction(conn, OPENID, state.Interaction.MESSAGE, app.clock.now())
    for _ in range(10):
        await sender.drain_once()


async def test_a_web_resolve_photo_reaches_a_wechat_resident_as_an_image(
        app: App, wechat_fake: FakeWeChatAPI) -> None:
    resident = ChatUser(app, OPENID, Channel.WECHAT)
    async with aiohttp.ClientSession() as session:
        wechat = WeChatSettings(app_id=APP_ID, api_base_url=wechat_fake.url, timeout=1.0)
        api = WeChatAPI(session, app.db, app.clock, wechat_fake.url, APP_ID, wechat_fake.app_secret, timeout=1.0)
        uploader = WeChatMedia(api, session)
        store = with_web_photos(MediaStore(), app.db)
        transport = WeChatTransport(api, app.db, app.clock, wechat, Texts(ZH), "Asia/Shanghai", store, uploader)
        sender = OutboxSender(app.db, app.clock, transport, asyncio.Event())
        await file_report(resident)
        await wrote_and_drained(app, sender)  # the report's own answers
        async with workplace(app) as client:
            csrf = await sign_in(client, app, "g01-leader")
            response = await client.post("/staff/tickets/1/resolve", data=resolve_form(csrf, PNG, "done.png"))
            assert response.status == 200
        assert (await ticket_row(app, 1)).status == "resolved"
        await wrote_and_drained(app, sender)
    [(kind, media_id, data)] = wechat_fake.uploads
    assert (kind, data) == ("image", PNG)
    images = [body for body in wechat_fake.pushes(OPENID) if body.get("msgtype") == "image"]
    assert images == [{"touser": OPENID, "msgtype": "image", "image": {"media_id": media_id}}], images
