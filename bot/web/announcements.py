"""Announcements in the workplace, the pages that read: the list (scheduled and past) with the
delivery per target, one announcement with every target's delivery and the web actions taken on
it, and the sign-up list with its CSV. The forms that change something are in
bot/web/announcements_form.py; who may do what is the chat's rule (handlers/announce_web.py):
anyone else gets 403, an announcement that does not exist 404."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import message_page, render, when
from handlers import announce_admin, announce_web
from handlers.announce_web import Delivery, delivery_of
from handlers.buttons import AnnouncementVerb
from handlers.context import Context
from handlers.formatting import local_time
from handlers.rendering import announcement_title
from handlers.types import Channel
from storage import announcement_web
from storage import announcements as store
from storage.announcements import Announcement, TargetKind
from storage.engine import Connection

LISTED = 90  # the newest, as the chat's list
CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell starting so


def forbidden(request: web.Request) -> web.Response:
    return message_page(request, "web_forbidden_title", "web_announce_only_admins", status=403)


def not_found(request: web.Request) -> web.Response:
    return message_page(request, "web_not_found_title", "web_announce_not_found_body", status=404)


def may_announce(request: web.Request) -> bool:
    staff: Staff = request[STAFF]
    return announce_web.may_announce(staff.person)


def announcement_id(request: web.Request) -> int | None:
    raw = request.match_info.get("id", "")
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


def context(request: web.Request, conn: Connection) -> Context:
    app, staff = request.app[WORKPLACE].app, request[STAFF]
    return announce_web.web_context(app.services, conn, app.clock.now(), staff.person)


def target_name(ctx: Context, kind: TargetKind, target_id: str) -> str:
    config = ctx.services.config
    area = config.community(target_id) if kind is TargetKind.COMMUNITY else (
        config.grid(target_id) if kind is TargetKind.GRID else None)
    return area.name if area is not None else (target_id or ctx.t("announce_all_groups"))


def _delivery_counts(rows: list[tuple[int, str, bool, int]]) -> dict[int, Counter[Delivery]]:
    counts: dict[int, Counter[Delivery]] = {}
    for found_id, status, resent, count in rows:
        counts.setdefault(found_id, Counter())[delivery_of(status, 1 if resent else 0)] += count
    return counts


async def _summary(ctx: Context, announcement: Announcement, counts: Counter[Delivery], to_none: int) -> dict[str, Any]:
    tz = ctx.services.timezone
    moment = announcement.next_run_at or announcement.starts_at
    return {"id": announcement.id, "title": announcement_title(announcement.text, 60),
            "target": target_name(ctx, announcement.target_kind, announcement.target_id),
            "when": local_time(moment, tz) if moment else "",
            "status": announcement.status.value, "status_name": await announce_admin.status_text(ctx, announcement),
            "counts": {d.value: counts[d] for d in Delivery}, "delivered_any": sum(counts.values()) > 0,
            "to_none": to_none, "has_signup": announcement.has_signup, "capacity": announcement.capacity}


async def list_page(request: web.Request) -> web.Response:
    if not may_announce(request):
        return forbidden(request)
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        ctx = context(request, conn)
        recent = await store.recent(conn, LISTED)
        first = min((a.id for a in recent), default=0)
        counts = _delivery_counts(await announcement_web.delivery_rows(conn, first))
        to_none = await announcement_web.runs_to_none(conn, first)
        rows = []
        for announcement in recent:
            row = await _summary(ctx, announcement, counts.get(announcement.id, Counter()),
                                 to_none.get(announcement.id, 0))
            row["signed"] = await store.count_signups(conn, announcement.id) if announcement.has_signup else 0
            rows.append(row)
    scheduled = [r for r in rows if r["status"] == "active"]
    past = [r for r in rows if r["status"] != "active"]
    return render(request, "announcements.html", {"scheduled": scheduled, "past": past})


def _target_label(ctx: Context, delivery: announcement_web.TargetDelivery) -> str:
    if delivery.channel == Channel.WECHAT.value:  # a follower's openid says nothing to staff
        return ctx.t("web_delivery_follower")
    return delivery.title or delivery.chat_id


async def detail(request: web.Request, messages: tuple[str, ...] = (), status: int = 200,
                 found_id: int | None = None) -> web.Response:
    """One announcement; also the page a create, an edit or a cancel answers with (`messages`: the
    chat's words; `found_id`: the one made, when the path names none)."""
    if not may_announce(request):
        return forbidden(request)
    found_id = found_id if found_id is not None else announcement_id(request)
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        announcement = await store.get(conn, found_id) if found_id is not None else None
        if announcement is None:
            return not_found(request)
        ctx = context(request, conn)
        deliveries = await announcement_web.target_deliveries(conn, announcement.id)
        counts = Counter(delivery_of(d.status, d.resends) for d in deliveries)
        to_none = (await announcement_web.runs_to_none(conn, announcement.id)).get(announcement.id, 0)
        summary = await _summary(ctx, announcement, counts, to_none)
        actions = await announcement_web.actions_of(conn, announcement.id)
        signed = await store.count_signups(conn, announcement.id) if announcement.has_signup else 0
    names = {p.id: p.name for p, _, _, _ in app.config.all_people()}
    targets = [{"run": when(request, d.scheduled_for), "target": _target_label(ctx, d), "channel": d.channel,
                "state": delivery_of(d.status, d.resends).value, "error": d.last_error[:80]} for d in deliveries]
    log = [{"at": when(request, a.at), "who": names.get(a.person_id, a.person_id),
            "action": ctx.t(f"web_announce_action_{a.action}"), "web": a.origin == announce_web.ORIGIN}
           for a in actions]
    return render(request, "announce_detail.html", {
        "a": summary, "text": announcement.text, "targets": targets, "log": log, "messages": messages,
        "signed": signed, "starts": when(request, announcement.starts_at),
        "may_edit_text": announce_admin.changeable(announcement, AnnouncementVerb.EDIT),
        "may_edit_signup": announce_admin.changeable(announcement, AnnouncementVerb.EDIT_PLACES),
        "may_cancel": announce_admin.changeable(announcement, AnnouncementVerb.CANCEL)}, status=status)


async def _listable(request: web.Request) -> tuple[Announcement, list[announce_web.SignupRow]] | web.Response:
    staff: Staff = request[STAFF]
    found_id = announcement_id(request)
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        announcement = await store.get(conn, found_id) if found_id is not None else None
        if announcement is None or not announcement.has_signup:
            return not_found(request)
        if not announce_web.may_list(staff.person, announcement):
            return forbidden(request)
        return announcement, await announce_web.signup_rows(conn, app.services, announcement)


async def signups_page(request: web.Request) -> web.Response:
    found = await _listable(request)
    if isinstance(found, web.Response):
        return found
    announcement, rows = found
    return render(request, "announce_signups.html", {
        "id": announcement.id, "title": announcement_title(announcement.text, 40), "rows": rows,
        "joined": sum(not r.waiting for r in rows), "capacity": announcement.capacity})


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ gets a leading apostrophe."""
    return "'" + value if value.startswith(CSV_FORMULA) else value


async def signups_csv(request: web.Request) -> web.Response:
    found = await _listable(request)
    if isinstance(found, web.Response):
        return found
    announcement, rows = found
    t = request.app[WORKPLACE].app.services.texts.t
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t("web_announce_col_number"), t("web_announce_col_state"), t("web_announce_col_name"),
                     t("web_announce_col_phone")])
    for row in rows:
        state = t("web_announce_waiting" if row.waiting else "web_announce_joined")
        writer.writerow([str(row.number), state, safe_cell(row.name), safe_cell(row.phone)])
    # The BOM: Excel opens UTF-8 without it as the local code page, and the names turn to mojibake.
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="signups-{announcement.id}.csv"'})
