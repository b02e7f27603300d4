"""The ticket page: every field (the phone in full: whoever may see the page handles the ticket),
the photos it has (shown in the page through bot/web/files.py, the bot fetching them), the location on a map, the timeline with what came from
the web, and the actions as plain POST forms. A ticket outside the person's scope is 404, the
same answer as a ticket that does not exist.

Actions run handlers/staff_actions.act, the chat flows' own code: the resident and followers are
told exactly as from chat (outbox rows queued in the action's transaction), the senders woken."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.uploads import Checked, UploadProblem, check_upload
from bot.web.views import level_name, message_page, quoted, render, when
from handlers.domain.tickets import NOTE_LIMIT, REASON_LIMIT
from handlers.rendering import full_address
from handlers.staff_actions import StaffAction, Upload, act
from handlers.staff_scope import may_see
from handlers.types import Channel
from storage import roster, web_sessions
from storage.attachments import AttachmentKind, stored_attachments_of
from storage.tickets import Ticket, events_of, get_ticket

log = logging.getLogger(__name__)
RATING_KEYS = {"satisfied": "rate_satisfied", "mostly_satisfied": "rate_mostly", "unsatisfied": "rate_unsatisfied"}


def _ticket_id(request: web.Request) -> int | None:
    raw = request.match_info.get("id", "")
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


def not_found(request: web.Request) -> web.Response:
    return message_page(request, "web_not_found_title", "web_not_found_body", status=404)


async def visible_ticket(request: web.Request) -> Ticket | None:
    app = request.app[WORKPLACE].app
    staff: Staff = request[STAFF]
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return None
    async with app.db.read() as conn:
        ticket = await get_ticket(conn, ticket_id)
    return ticket if ticket is not None and may_see(app.services.config, staff.person, ticket) else None


def _fields(request: web.Request, ticket: Ticket) -> dict[str, Any]:
    services = request.app[WORKPLACE].app.services
    config, t = services.config, services.texts.t
    grid, category = config.grid(ticket.grid_id), config.category(ticket.category_id)
    community = next((c.name for c in config.communities if c.id == ticket.community_id), ticket.community_id)
    return {
        "id": ticket.id, "status": ticket.status.value, "status_name": t(f"status_{ticket.status.value}"),
        "category": category.name if category else ticket.category_id, "community": community,
        "grid": grid.name if grid else ticket.grid_id, "address": full_address(ticket.address, ticket.detail),
        "description": quoted(ticket.description), "phone": ticket.phone,
        "latitude": ticket.latitude, "longitude": ticket.longitude,
        "created": when(request, ticket.created_at), "ack_due": when(request, ticket.ack_due_at),
        "resolve_due": when(request, ticket.resolve_due_at), "level": level_name(request, ticket.escalation_level),
        "rating": t(RATING_KEYS[ticket.rating]) if ticket.rating in RATING_KEYS else "", "result": quoted(ticket.result_note),
        "is_open": ticket.is_open,
    }


async def _timeline(request: web.Request, ticket: Ticket) -> tuple[list[dict], list[dict]]:
    app = request.app[WORKPLACE].app
    texts = app.services.texts
    async with app.db.read() as conn:
        events = await events_of(conn, ticket.id)
        origins = await web_sessions.origins_of(conn, ticket.id)
        attachments = await stored_attachments_of(conn, ticket.id)
    names = {p.id: p.name for p, _, _, _ in app.config.all_people()}
    timeline = []
    for event in events:
        key = next((k for k in (f"event_{event.action}", f"web_event_{event.action}") if k in texts.catalogue),
                   "web_event_other")
        who = names.get(event.actor_id, "") if event.actor_kind == "person" else texts.t(
            f"web_actor_{event.actor_kind}")
        timeline.append({"at": when(request, event.at), "action": texts.t(key), "who": who,
                         "note": quoted(event.note), "web": origins.get(event.id) == web_sessions.WEB_ORIGIN})
    shown = []
    for stored in attachments:
        who, at = names.get(stored.added_by, texts.t("web_actor_resident")), when(request, stored.added_at)
        channel = stored.attachment.channel
        shown.append({"who": who, "at": at, "url": f"/staff/tickets/{ticket.id}/files/{stored.id}",
                      "voice": stored.attachment.kind is AttachmentKind.VOICE,
                      "console": channel == Channel.CONSOLE.value,
                      # Telegram voice notes are OGG/Opus, which browsers play; WeChat's AMR is a download.
                      "playable": channel == Channel.TELEGRAM.value,
                      "alt": texts.t("web_photo_alt", who=who, at=at)})
    return timeline, shown


async def ticket_page(request: web.Request, messages: tuple[str, ...] = (), status: int = 200) -> web.Response:
    ticket = await visible_ticket(request)
    if ticket is None and messages:
        # The action moved it out of the person's scope (转派): say what was done, not 404.
        return render(request, "message.html", {"title_key": "web_action_done_title",
                                                "body_key": "web_action_done_body", "messages": messages})
    if ticket is None:
        return not_found(request)
    services = request.app[WORKPLACE].app.services
    timeline, photos = await _timeline(request, ticket)
    async with request.app[WORKPLACE].app.db.read() as conn:  # 重点人群, for those handling the ticket
        care_tags = await roster.tags_of(conn, ticket.resident_id)
    grids = [(g.id, g.name) for g in services.config.grids if g.id != ticket.grid_id]
    http = request.app[WORKPLACE].http
    return render(request, "ticket.html", {
        "ticket": _fields(request, ticket), "timeline": timeline, "photos": photos, "grids": grids,
        "messages": messages, "tiles": http.map_tiles, "attribution": http.map_attribution,
        "note_limit": NOTE_LIMIT, "reason_limit": REASON_LIMIT, "care_tags": "、".join(care_tags)}, status=status)


async def ticket_action(request: web.Request) -> web.Response:
    """受理, 办结, 转派, 添加备注 from the page's forms; the page again with what chat would say."""
    try:
        action = StaffAction(request.match_info.get("action", ""))
    except ValueError:
        return not_found(request)
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return not_found(request)
    workplace = request.app[WORKPLACE]
    app, staff = workplace.app, request[STAFF]
    form = await request.post()
    text, grid = str(form.get("text", "")), str(form.get("grid", ""))
    upload = _upload(form.get("photo")) if action is StaffAction.RESOLVE else None
    if isinstance(upload, UploadProblem):  # nothing changes; the page says why
        if await visible_ticket(request) is None:
            return not_found(request)
        t = app.services.texts.t
        return await ticket_page(request, (t(upload.value),), status=413 if upload is UploadProblem.TOO_BIG else 400)
    photo = Upload(upload.data, upload.content_type) if upload is not None else None
    async with app.db.transaction() as conn:
        now = app.clock.now()
        result = await act(conn, app.services, now, staff.person.id, ticket_id, action, text, grid, photo)
        if result is not None:
            await app.engine.write_notifications(conn, list(result.notifications), now)
    if result is None:
        return not_found(request)
    channels = {note.recipient.channel for note in result.notifications}
    if channels:
        app.notifier.outbox_queued(channels)
    return await ticket_page(request, result.messages)


def _upload(field: object) -> Checked | UploadProblem | None:
    """The 办结 form's photo: None when no file was chosen (the browser sends an empty part)."""
    if not isinstance(field, web.FileField):
        return None
    data = field.file.read()
    return check_upload(data) if data else None
