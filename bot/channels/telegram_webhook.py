"""Telegram webhook: 2xx only after the update is committed to the inbox."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.channels.telegram_intake import TelegramIntake
from bot.http_server import read_body

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 256 * 1024  # a Telegram update is a few KiB


def webhook_handler(intake: TelegramIntake, secret: str, wake: asyncio.Event) -> Handler:
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):  # constant time: no timing oracle
            log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
            return web.Response(status=401)
        body = await read_body(request, MAX_BODY)
        if body is None:
            return web.Response(status=413)
        try:
            update = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400)
        try:
            await intake.store([update])
        except Exception:
            # Not stored: a 5xx makes Telegram deliver it again.
            log.exception("telegram webhook: could not store update %s", update["update_id"])
            return web.Response(status=500)
        wake.set()
        return web.Response(status=200)

    return handle
