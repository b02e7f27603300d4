"""A WeChat platform stand-in: signs (and encrypts) callbacks and posts them to the real server."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from wechatpy.crypto import WeChatCrypto

from bot.bootstrap import build_app
from bot.channels.wechat.security import parse_xml, signature_of
from bot.config import Config
from bot.config_channels import HttpSettings, WeChatSecurity, WeChatSettings
from bot.http_server import HttpServer
from bot.run_channels import run_channels
from bot.settings import Settings
from handlers.dispatcher import create_invite
from storage.clock import Clock
from tests.bot_run import BotRun
from tests.fakes.wechat_api import FakeWeChatAPI

TOKEN = "fengshanToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx0123456789abcdef"
ACCOUNT = "gh_weifengshan"
CALLBACK = "/wechat/callback"


def wechat_config(config: Config, fake: FakeWeChatAPI, security: WeChatSecurity = WeChatSecurity.SAFE,
                  **extra: object) -> Config:
    wechat = WeChatSettings(app_id=APP_ID, api_base_url=fake.url, security=security, **extra)  # type: ignore[arg-type]
    return config.model_copy(update={"wechat": wechat, "http": HttpSettings(host="127.0.0.1", port=0)})


def wechat_settings() -> Settings:
    return Settings(wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_app_secret=FakeWeChatAPI().app_secret)


def message_xml(fields: dict[str, str | int]) -> str:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>"
                    for k, v in fields.items())
    return f"<xml>{inner}</xml>"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    text: str  # the passive reply's Content ("" for "success" or an error status)
    seconds: float


class WeChatPlatform:
    """Posts what WeChat would post, as WeChat would sign and encrypt it."""

    def __init__(self, session: aiohttp.ClientSession, url: str, clock: Clock,
                 security: WeChatSecurity = WeChatSecurity.SAFE, fake: FakeWeChatAPI | None = None) -> None:
        self.session = session
        self.fake = fake  # where a photo or recording a follower sends is kept (media/get)
        self.url = url
        self.clock = clock
        self.security = security
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        self._ids = itertools.count(7_000_000_001)
        # The last request as posted (query, body): what a proxy log in front of the bot would hold.
        self.last: tuple[dict[str, str], bytes | str] | None = None

    def timestamp(self) -> str:
        return str(int(self.clock.now().timestamp()))

    def query(self, timestamp: str, nonce: str) -> dict[str, str]:
        return {"signature": signature_of(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                "openid": "x"}

    async def post_raw(self, body: bytes | str, params: dict[str, str]) -> Answer:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self.last = (dict(params), body)
        async with self.session.post(self.url, params=params, data=body) as response:
            text = await response.text()
            status = response.status
        seconds = loop.time() - started
        return Answer(status, text, self._content(text, params) if status == 200 else "", seconds)

    def _content(self, body: str, params: dict[str, str]) -> str:
        if body in ("success", ""):
            return ""
        if params.get("encrypt_type") == "aes":
            outer = parse_xml(body)
            body = self.crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return parse_xml(body).get("Content", "")

    async def post(self, fields: dict[str, str | int], timestamp: str | None = None) -> Answer:
        timestamp = timestamp or self.timestamp()
        nonce = secrets.token_hex(5)
        params = self.query(timestamp, nonce)
        xml = message_xml(fields)
        if self.security is WeChatSecurity.PLAIN:
            return await self.post_raw(xml, params)
        encrypted = parse_xml(self.crypto.encrypt_message(xml, nonce, timestamp))
        params |= {"encrypt_type": "aes", "msg_signature": encrypted["MsgSignature"]}
        body = message_xml({"ToUserName": ACCOUNT, "Encrypt": encrypted["Encrypt"]})
        return await self.post_raw(body, params)

    def base(self, openid: str, msg_type: str) -> dict[str, str | int]:
        return {"ToUserName": ACCOUNT, "FromUserName": openid,
                "CreateTime": int(self.clock.now().timestamp()), "MsgType": msg_type}

    def text_fields(self, openid: str, content: str, msg_id: int | None = None,
                    menu_id: int | None = None) -> dict[str, str | int]:
        fields = self.base(openid, "text") | {"Content": content, "MsgId": msg_id or next(self._ids)}
        if menu_id is not None:
            fields["bizmsgmenuid"] = menu_id
        return fields

    async def text(self, openid: str, content: str, **extra: int) -> Answer:
        return await self.post(self.text_fields(openid, content, **extra))

    async def click(self, openid: str, key: str) -> Answer:
        return await self.post(self.base(openid, "event") | {"Event": "CLICK", "EventKey": key})

    async def subscribe(self, openid: str) -> Answer:
        return await self.post(self.base(openid, "event") | {"Event": "subscribe", "EventKey": ""})

    async def image(self, openid: str, media_id: str, pic_url: str) -> Answer:
        if self.fake is not None:
            self.fake.add_media(media_id, b"\xff\xd8\xff\xe0" + media_id.encode(), "image/jpeg")
        return await self.post(self.base(openid, "image") | {
            "PicUrl": pic_url, "MediaId": media_id, "MsgId": next(self._ids)})

    async def voice(self, openid: str, media_id: str, recognition: str | None = None,
                    voice_format: str = "amr") -> Answer:
        """A voice message; with 语音识别 on, WeChat adds its own transcript as Recognition
        (empty when it heard nothing it could write down)."""
        if self.fake is not None:
            self.fake.add_media(media_id, b"#!AMR\n" + media_id.encode(), f"audio/{voice_format}")
        fields = self.base(openid, "voice") | {"MediaId": media_id, "Format": voice_format,
                                                "MsgId": next(self._ids)}
        if recognition is not None:
            fields["Recognition"] = recognition
        return await self.post(fields)

    async def location(self, openid: str, lat: float, lon: float, label: str) -> Answer:
        return await self.post(self.base(openid, "location") | {
            "Location_X": lat, "Location_Y": lon, "Scale": 15, "Label": label, "MsgId": next(self._ids)})


@dataclass
class WeChatRun(BotRun):
    fake: FakeWeChatAPI
    server: HttpServer
    platform: WeChatPlatform

    async def bind(self, openid: str, person_id: str) -> Answer:
        async with self.app.db.transaction() as conn:
            code = await create_invite(conn, person_id, self.app.clock.now())
        return await self.platform.text(openid, f"绑定 {code}")


async def start_wechat(config: Config, fake: FakeWeChatAPI, clock: Clock, db: Path,
                       session: aiohttp.ClientSession, security: WeChatSecurity = WeChatSecurity.SAFE,
                       **extra: object) -> WeChatRun:
    app = await build_app(wechat_config(config, fake, security, **extra), clock, db)
    server = HttpServer(app.config.http)
    stop = asyncio.Event()
    task = asyncio.create_task(run_channels(app, wechat_settings(), stop, http=server))
    for _ in range(200):
        if server.port:
            break
        await asyncio.sleep(0.01)
    platform = WeChatPlatform(session, f"http://127.0.0.1:{server.port}{CALLBACK}", clock, security, fake)
    return WeChatRun(app=app, stop=stop, task=task, fake=fake, server=server, platform=platform)
