"""Rendering shared by the workplace's pages: every label comes from the text catalogue
(handlers/texts.py) through `t`; times are shown in the subdistrict's timezone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from handlers.formatting import local_time, mask_numbers
from handlers.rendering import strip_hidden

# ticket.escalation_level → its name (0 is the grid itself).
LEVEL_KEYS = ("web_level_grid", "level_guide", "level_community", "level_subdistrict")


def level_name(request: web.Request, level: int) -> str:
    t = request.app[WORKPLACE].app.services.texts.t
    return t(LEVEL_KEYS[level]) if 0 <= level < len(LEVEL_KEYS) else str(level)


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    workplace = request.app[WORKPLACE]
    staff: Staff | None = request.get(STAFF)
    base = {"t": workplace.app.services.texts.t, "staff": staff, "csrf": staff.csrf if staff else ""}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def message_page(request: web.Request, title_key: str, body_key: str, status: int = 200) -> web.Response:
    return render(request, "message.html", {"title_key": title_key, "body_key": body_key, "messages": ()},
                  status=status)


def when(request: web.Request, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return local_time(moment, request.app[WORKPLACE].app.services.timezone)


def quoted(text: str) -> str:
    """What a resident or staff member typed, as a page shows it: hidden characters gone, phone
    and ID numbers masked (for handlers too, as in chat); autoescaping does the rest."""
    return mask_numbers(strip_hidden(text)).strip()
