"""The WeChat callback URL: verification (GET) and messages (POST), checked before storing."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web
from wechatpy.replies import TextReply

from bot.channels.wechat.intake import WeChatIntake
from bot.channels.wechat.messages import platform_id, to_message
from bot.channels.wechat.security import (
    MAX_BODY,
    CallbackParams,
    Cipher,
    NonceMemory,
    Refused,
    check_fresh,
    check_signature,
    parse_xml,
)
from bot.config_channels import WeChatSecurity
from bot.http_server import read_body
from storage.clock import Clock

log = logging.getLogger(__name__)

XML_TYPE = "application/xml"


class WeChatCallback:
    def __init__(self, intake: WeChatIntake, token: str, security: WeChatSecurity,
                 cipher: Cipher | None, clock: Clock) -> None:
        self.intake = intake
        self.token = token
        self.security = security
        self.cipher = cipher
        self.clock = clock
        self.nonces = NonceMemory()

    def add_routes(self, app: web.Application, path: str) -> None:
        app.router.add_get(path, self.verify)
        app.router.add_post(path, self.receive)

    def _params(self, request: web.Request) -> CallbackParams:
        query = request.query
        params = CallbackParams(query.get("signature", ""), query.get("timestamp", ""),
                                query.get("nonce", ""), query.get("msg_signature", ""),
                                query.get("encrypt_type", "raw").lower())
        check_fresh(params.timestamp, self.clock.now().timestamp())
        check_signature((self.token, params.timestamp, params.nonce), params.signature)
        return params

    async def verify(self, request: web.Request) -> web.Response:
        """WeChat checks the URL once when it is configured: echo echostr if the signature holds."""
        try:
            self._params(request)
        except Refused as exc:
            log.warning("wechat verify refused from %s: %s", request.remote, exc.reason)
            return web.Response(status=exc.status)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        try:
            params = self._params(request)
            body = await read_body(request, MAX_BODY)
            if body is None:
                raise Refused(413, "body too large")
            self.nonces.check(params.timestamp, params.nonce, body, self.clock.now().timestamp())
            xml, fields = self._open(body, params)
            message = to_message(xml, fields)
        except Refused as exc:
            log.warning("wechat callback refused from %s: %s", request.remote, exc.reason)
            return web.Response(status=exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("wechat callback with unusable fields from %s: %s", request.remote, type(exc).__name__)
            return web.Response(status=400)
        if not message.openid:
            return web.Response(status=400)
        try:
            text = await self.intake.receive(platform_id(fields), xml, message)
        except Exception:
            # Not stored: a 5xx makes WeChat try again (it retries three times).
            log.exception("wechat callback from %s could not be stored", message.openid[:6])
            return web.Response(status=500)
        if not text:
            return web.Response(text="success")
        reply = TextReply(source=fields.get("ToUserName", ""), target=message.openid, content=text).render()
        if params.encrypt_type == "aes" and self.cipher is not None:
            reply = self.cipher.encrypt(reply, secrets.token_hex(8), params.timestamp)
        return web.Response(text=reply, content_type=XML_TYPE)

    def _open(self, body: bytes, params: CallbackParams) -> tuple[str, dict[str, str]]:
        """The message XML and its fields, decrypted where the mode says so."""
        outer = parse_xml(body)
        if params.encrypt_type == "aes":
            if self.cipher is None:
                raise Refused(400, "encrypted message but no AES key configured")
            if "Encrypt" not in outer:
                raise Refused(400, "encrypt_type=aes without Encrypt")
            xml = self.cipher.decrypt(outer["Encrypt"], params)
            return xml, parse_xml(xml)
        if self.security is not WeChatSecurity.PLAIN:
            # Compatible mode too: WeChat sends every message there with encrypt_type=aes and
            # msg_signature, and a plaintext body is signed by nothing (its signature covers
            # only token, timestamp and nonce).
            raise Refused(400, f"plaintext message while the account is in {self.security.value} mode")
        return body.decode(), outer
