"""人员 (/staff/people): the roster of one's scope — each community's staff and each grid's leader,
guide and workers, who is bound on which channel and since when — and, for admins, an invite
(code, Telegram deep link, the WeChat way, a QR code of the link) and revoking a binding.

Scope as for tickets: admins see everyone, community staff their community, grid people their
grid, anyone else themself. Phones in full for admins (they issue invites and call people),
masked (138****1234) for everyone else. Invites and revoking are for admins only, checked here on
every request; a person outside the reader's scope is 404, like one that does not exist.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import segno
from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import message_page, render, when
from handlers.deep_links import BindLink
from handlers.dispatcher import INVITE_VALID_FOR, create_invite
from handlers.domain.model import Role
from handlers.formatting import mask_phone
from handlers.types import Channel, Notification, Recipient, Reply
from storage import roster
from storage.accounts import PersonRow, get_account
from storage.roster import RosterPerson

log = logging.getLogger(__name__)
QR_KINDS = {"svg": "image/svg+xml", "png": "image/png"}


def is_admin(staff: Staff) -> bool:
    return staff.person.role == Role.ADMIN


def scope_filter(person: PersonRow) -> dict[str, str]:
    """The roster query's filter for a reader: everyone, a community, a grid, or themself."""
    if person.role == Role.ADMIN:
        return {}
    if person.role == Role.STAFF and person.community_id:
        return {"community_id": person.community_id}
    if person.role in (Role.LEADER, Role.GUIDE, Role.WORKER) and person.grid_id:
        return {"grid_id": person.grid_id}
    return {"person_id": person.id}


def admins_only(request: web.Request) -> web.Response:
    return message_page(request, "people_admins_only_title", "people_admins_only_body", status=403)


def person_not_found(request: web.Request) -> web.Response:
    return message_page(request, "web_not_found_title", "people_not_found_body", status=404)


async def person_in_scope(request: web.Request) -> RosterPerson | None:
    """The person of the URL, if active and within the reader's scope."""
    app, staff = request.app[WORKPLACE].app, request[STAFF]
    person_id = request.match_info.get("person", "")
    if not person_id or len(person_id) > 64:
        return None
    async with app.db.read() as conn:
        found = await roster.roster(conn, **{**scope_filter(staff.person), "person_id": person_id})
    return found[0] if found and found[0].id == person_id else None


def _shown(request: web.Request, person: RosterPerson, admin: bool) -> dict[str, Any]:
    services = request.app[WORKPLACE].app.services
    config, t = services.config, services.texts.t
    grid = config.grid(person.grid_id) if person.grid_id else None
    community = config.community(person.community_id) if person.community_id else None
    phone = person.phone if admin else mask_phone(person.phone) if person.phone else ""
    return {"id": person.id, "name": person.name, "role": t(f"role_{person.role}"), "phone": phone,
            "grid": grid.name if grid else "", "community": community.name if community else "",
            "source": t(f"people_source_{person.source}") if person.source in ("config", "import") else person.source,
            "bindings": [{"channel": b.channel, "channel_name": t(f"channel_{b.channel}"),
                          "account": b.external_id, "since": when(request, b.bound_at) or t("people_since_unknown"),
                          "from_config": b.from_config} for b in person.bindings]}


ROLE_ORDER = (Role.STAFF, Role.LEADER, Role.GUIDE, Role.WORKER, Role.ADMIN, Role.RESPONDER)


def _order(person: RosterPerson) -> tuple:
    """Each community's staff first, then its grids, each grid's leader, guide, workers; the
    subdistrict's own people (admins, responders) last."""
    rank = ROLE_ORDER.index(Role(person.role)) if person.role in Role.__members__.values() else len(ROLE_ORDER)
    return person.community_id is None, person.community_id or "", person.grid_id or "", rank, person.id


def _choices(request: web.Request, filters: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """The filter lists within the reader's scope (a grid person has nothing to choose)."""
    config = request.app[WORKPLACE].app.services.config
    if "grid_id" in filters or "person_id" in filters:
        return {"communities": [], "grids": []}
    community = filters.get("community_id")
    return {"communities": [(c.id, c.name) for c in config.communities if community in (None, c.id)],
            "grids": [(g.id, g.name) for g in config.grids if community in (None, g.community)]}


async def people_page(request: web.Request) -> web.Response:
    app, staff = request.app[WORKPLACE].app, request[STAFF]
    admin = is_admin(staff)
    scope = scope_filter(staff.person)
    filters = dict(scope)
    for key, column in (("community", "community_id"), ("grid", "grid_id")):
        chosen = request.query.get(key, "")[:40]
        if chosen and column not in filters and "person_id" not in filters:
            filters[column] = chosen  # a filter only narrows: the query ANDs it with the scope
    async with app.db.read() as conn:
        people = sorted(await roster.roster(conn, **filters), key=_order)
    rows = [_shown(request, p, admin) for p in people]
    query = {"community": request.query.get("community", ""), "grid": request.query.get("grid", "")}
    return render(request, "people.html", {"people": rows, "admin": admin, "query": query,
                                           "bound": sum(1 for r in rows if r["bindings"]), **_choices(request, scope)})


def invite_text(request: web.Request, code: str) -> str:
    """What an invite's QR code holds: the Telegram deep link, or without a bot username the
    words to send (「绑定 CODE」, the WeChat way). The code and nothing else of the person."""
    username = request.app[WORKPLACE].app.services.links.bot_username
    if username:
        return f"https://t.me/{username}?start={BindLink(code).encode()}"
    return request.app[WORKPLACE].app.services.texts.t("people_invite_words", code=code)


async def issue_invite(request: web.Request) -> web.Response:
    staff: Staff = request[STAFF]
    if not is_admin(staff):
        return admins_only(request)
    person = await person_in_scope(request)
    if person is None:
        return person_not_found(request)
    app = request.app[WORKPLACE].app
    now = app.clock.now()
    async with app.db.transaction() as conn:
        code = await create_invite(conn, person.id, now)
        await roster.record_event(conn, now, staff.person.id, "invite", person.id)
    log.info("workplace: invite for %s issued by %s", person.id, staff.person.id)
    username = app.services.links.bot_username
    return render(request, "people_invite.html", {
        "person": _shown(request, person, True), "code": code, "expires": when(request, now + INVITE_VALID_FOR),
        "deep_link": invite_text(request, code) if username else "", "qr_text": invite_text(request, code)})


async def invite_qr(request: web.Request) -> web.Response:
    """The QR code of a usable invite's link, for admins; any other code is 404."""
    staff: Staff = request[STAFF]
    if not is_admin(staff):
        return admins_only(request)
    code, kind = request.match_info.get("code", ""), request.match_info.get("kind", "")
    if kind not in QR_KINDS or not code.isalnum() or len(code) > 16:
        return person_not_found(request)
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        person_id = await roster.invite_person(conn, code, app.clock.now())
    if person_id is None:
        return person_not_found(request)
    buffer = io.BytesIO()
    segno.make(invite_text(request, code), error="m").save(buffer, kind=kind, scale=8, border=4)
    return web.Response(body=buffer.getvalue(), content_type=QR_KINDS[kind])


async def unbind(request: web.Request) -> web.Response:
    """解除绑定: the form shows a confirmation first; with confirm=1 the account is unbound, the
    person's chat told and their web sessions ended. A binding that is gone (a replayed POST)
    changes nothing and tells no one again."""
    staff: Staff = request[STAFF]
    if not is_admin(staff):
        return admins_only(request)
    person = await person_in_scope(request)
    if person is None:
        return person_not_found(request)
    form = await request.post()
    channel, account = str(form.get("channel", "")), str(form.get("account", ""))
    binding = next((b for b in person.bindings if (b.channel, b.external_id) == (channel, account)), None)
    if binding is None:
        return message_page(request, "people_unbind_gone_title", "people_unbind_gone_body", status=409)
    shown = _shown(request, person, True)
    if binding.from_config:
        return message_page(request, "people_unbind_config_title", "people_unbind_config_body", status=409)
    if form.get("confirm") != "1":
        return render(request, "people_unbind.html", {"person": shown, "channel": channel, "account": account,
                                                      "channel_name": app_t(request)(f"channel_{channel}")})
    app = request.app[WORKPLACE].app
    now = app.clock.now()
    async with app.db.transaction() as conn:
        found = await get_account(conn, channel, account)
        done = await roster.revoke_binding(conn, person.id, channel, account)
        if done and found is not None:
            note = Notification(Recipient(Channel(channel), found.chat_id),
                                Reply(app_t(request)("people_unbound_notice", name=person.name)), "people_unbound")
            await app.engine.write_notifications(conn, [note], now)
            await roster.record_event(conn, now, staff.person.id, "unbind", person.id, channel)
    if not done:
        return message_page(request, "people_unbind_gone_title", "people_unbind_gone_body", status=409)
    app.notifier.outbox_queued({channel})
    log.info("workplace: %s binding of %s revoked by %s", channel, person.id, staff.person.id)
    return render(request, "message.html", {"title_key": "people_unbind_done_title",
                                            "body_key": "people_unbind_done_body",
                                            "messages": (app_t(request)("people_unbind_done", name=person.name,
                                                                        channel=shown_channel(request, channel)),)})


def app_t(request: web.Request) -> Callable[..., str]:
    """The catalogue's t."""
    return request.app[WORKPLACE].app.services.texts.t


def shown_channel(request: web.Request, channel: str) -> str:
    return app_t(request)(f"channel_{channel}")
