"""Telegram webhook: 2xx only after the update is committed to the inbox."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.channels.telegram.intake import TelegramIntake
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
            text = body.decode("utf-8")
            update = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400)
        try:
            # The body as Telegram sent it: parsed only when handled, so one this PTB cannot
            # read is parked there instead of failing here (and being retried by Telegram).
            await intake.store([(update_id, text)])
        except Exception:
            # Not stored: a 5xx makes Telegram deliver it again.
            log.exception("telegram webhook: could not store update %s", update["update_id"])
            return web.Response(status=500)
        wake.set()
        return web.Response(status=200)

    return handle
