"""A ticket's photos and recordings for the ticket page, fetched by the bot from the platform
that holds them (MediaStore) and served to signed-in staff whose scope holds the ticket. The page
never names a platform URL: Telegram's file URLs carry the bot's token.

An attachment is served under its own ticket's URL only; another ticket's id there is 404, the
same answer as a ticket outside the scope. A fetch that fails answers a placeholder image saying
so (the page stays readable without JavaScript), and is logged without the platform's ids."""

from __future__ import annotations

import asyncio
import logging
from xml.sax.saxutils import escape

from aiohttp import web

from bot.media import MB, Media, MediaError
from bot.web.keys import WORKPLACE
from bot.web.ticket_page import not_found, visible_ticket
from bot.web.uploads import image_type
from handlers.types import Channel
from storage.attachments import AttachmentKind, StoredAttachment, attachment_of

log = logging.getLogger(__name__)

SERVE_LIMIT = 20 * MB  # what a platform hands out (Telegram's getFile limit)
FETCH_TIMEOUT = 20.0
PRIVATE = "private, no-store"
# What the page's <img>/<audio> may be given; anything else is a download.
SHOWN = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
PLAYABLE = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4"})


def plays_in_browser(attachment: StoredAttachment) -> bool:
    """Telegram voice notes are OGG/Opus (browsers play them); WeChat's are AMR (they do not)."""
    return attachment.attachment.channel == Channel.TELEGRAM.value


def file_id(request: web.Request) -> int | None:
    raw = request.match_info.get("file", "")
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


def _placeholder(request: web.Request, status: int) -> web.Response:
    text = escape(request.app[WORKPLACE].app.services.texts.t("web_photo_unavailable"))
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120" viewBox="0 0 320 120">'
           '<rect width="320" height="120" fill="#eee"/><text x="160" y="66" font-size="18" '
           f'text-anchor="middle" fill="#555">{text}</text></svg>')
    return web.Response(text=svg, content_type="image/svg+xml", status=status,
                        headers={"Cache-Control": PRIVATE})


def _response(media: Media, kind: AttachmentKind) -> web.Response:
    declared = media.content_type.split(";", 1)[0].strip().lower()
    if kind is AttachmentKind.PHOTO:
        # A platform may call a JPEG octet-stream: the bytes say what it is.
        content_type = image_type(media.data) or (declared if declared in SHOWN else "application/octet-stream")
    else:
        content_type = declared if declared.startswith("audio/") else "application/octet-stream"
    headers = {"Cache-Control": PRIVATE}
    if content_type not in SHOWN and content_type not in PLAYABLE:
        headers["Content-Disposition"] = "attachment"
    return web.Response(body=media.data, content_type=content_type, headers=headers)


async def ticket_file(request: web.Request) -> web.Response:
    ticket, number = await visible_ticket(request), file_id(request)
    if ticket is None or number is None:
        return not_found(request)
    workplace = request.app[WORKPLACE]
    async with workplace.app.db.read() as conn:
        stored = await attachment_of(conn, ticket.id, number)
    if stored is None:
        return not_found(request)
    attachment = stored.attachment
    if attachment.channel == Channel.CONSOLE.value:  # no platform to fetch from: the page says so
        return _placeholder(request, 404)
    try:
        media = await asyncio.wait_for(workplace.media.fetch(attachment.channel, attachment.ref), FETCH_TIMEOUT)
    except (MediaError, TimeoutError) as exc:
        reason = exc.reason if isinstance(exc, MediaError) else "timed out"
        log.warning("workplace: attachment %d of ticket %d not fetched from %s: %s",
                    stored.id, ticket.id, attachment.channel, reason)
        return _placeholder(request, 502)
    if len(media.data) > SERVE_LIMIT:
        log.warning("workplace: attachment %d of ticket %d is %d bytes, over the %d MB cap",
                    stored.id, ticket.id, len(media.data), SERVE_LIMIT // MB)
        return _placeholder(request, 502)
    return _response(media, attachment.kind)
