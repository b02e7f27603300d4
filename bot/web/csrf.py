"""CSRF: every form carries the session's token; a POST without it, or with another, is 403 and
changes nothing. Checked before any handler runs (the sign-in form carries its link token instead)."""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.web.keys import STAFF, Staff
from bot.web.views import message_page

FIELD = "csrf"


def csrf_guard(exempt: frozenset[str]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path in exempt:
            return await handler(request)
        staff: Staff | None = request.get(STAFF)
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:  # over bot/web/uploads.REQUEST_LIMIT: read no further
            return message_page(request, "web_csrf_title", "web_upload_too_big", status=413)
        sent = form.get(FIELD)
        if staff is None or not isinstance(sent, str) or not hmac.compare_digest(sent, staff.csrf):
            return message_page(request, "web_csrf_title", "web_csrf_body", status=403)
        return await handler(request)

    return middleware
