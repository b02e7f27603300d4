"""Announcements in the workplace, the forms: create (with a preview of its reach), edit (text,
activity start, places) and cancel after a confirmation. Each runs the chat's own code through
handlers/announce_web.py in one transaction with the notices it writes; the senders and the
scheduler are woken after the commit.

The create form carries a one-time token (storage/announcement_web.py): a second post of the same
form (a double click, a reload, a replay) makes nothing and says which announcement the first made.
A draft the rules refuse writes nothing (the token stays usable) and the form says why."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.announcements import (
    announcement_id,
    context,
    detail,
    forbidden,
    may_announce,
    not_found,
)
from bot.web.keys import STAFF, WORKPLACE
from bot.web.views import render, when
from handlers import announce_web
from handlers.announce import MAX_TEXT
from handlers.announce_web import Checked, Draft, WebResult
from handlers.formatting import clip
from storage import announcement_web
from storage import announcements as store
from storage.announcement_web import TokenState

FIELDS = ("text", "target", "when", "places", "starts")


def _draft(form: Any) -> Draft:
    values = {name: str(form.get(name, "")) for name in FIELDS}
    return Draft(**values)


async def _form(request: web.Request, token: str, draft: Draft, *, problems: tuple[str, ...] = (),
                preview: dict[str, Any] | None = None, status: int = 200) -> web.Response:
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        targets = announce_web.targets(context(request, conn))
    return render(request, "announce_form.html", {
        "token": token, "draft": draft, "targets": targets, "problems": problems, "preview": preview,
        "limit": MAX_TEXT}, status=status)


async def new_page(request: web.Request) -> web.Response:
    if not may_announce(request):
        return forbidden(request)
    app, staff = request.app[WORKPLACE].app, request[STAFF]
    async with app.db.transaction() as conn:
        token = await announcement_web.issue_form_token(conn, staff.person.id, app.clock.now())
    return await _form(request, token, Draft())


async def _preview(request: web.Request, checked: Checked) -> dict[str, Any]:
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        found, said = await announce_web.preview(context(request, conn), checked)
    return {"telegram": found.telegram_groups, "wecom": found.wecom_groups, "followers": found.followers,
            "zero": found.total == 0, "said": said, "when": when(request, checked.when.first_run_at),
            "repeats": bool(checked.when.cron),
            "signup": (checked.signup[0], when(request, checked.signup[1])) if checked.signup else None}


async def create(request: web.Request) -> web.Response:
    """预览 shows the reach; 确认发布 stores it (once per form)."""
    if not may_announce(request):
        return forbidden(request)
    workplace = request.app[WORKPLACE]
    app, staff = workplace.app, request[STAFF]
    form = await request.post()
    draft, token = _draft(form), str(form.get("token", ""))
    async with app.db.read() as conn:
        checked = announce_web.check(context(request, conn), draft)
    if isinstance(checked, list):
        return await _form(request, token, draft, problems=tuple(checked), status=400)
    if form.get("step") != "create":
        return await _form(request, token, draft, preview=await _preview(request, checked))
    try:
        async with app.db.transaction() as conn:
            ctx = context(request, conn)
            used = await announcement_web.use_form_token(conn, token, staff.person.id, ctx.now)
            if used.state is TokenState.FRESH:
                checked = announce_web.check(ctx, draft)  # again, in the transaction: the time may have passed
                if isinstance(checked, list):
                    raise _Refused(checked)  # rolls the token's claim back with everything else
                made = await announce_web.create(ctx, checked)
                await announcement_web.token_made(conn, token, made)
    except _Refused as refused:
        return await _form(request, token, draft, problems=tuple(refused.problems), status=400)
    t = app.services.texts.t
    if used.state is TokenState.UNKNOWN:
        return await _form(request, "", draft, problems=(t("web_announce_form_stale"),), status=400)
    if used.state is TokenState.USED:
        return await detail(request, (t("web_announce_replayed", id=used.announcement_id),), status=409,
                            found_id=used.announcement_id)
    app.notifier.schedule_changed()
    return await detail(request, announce_web.result(ctx, made).messages, found_id=made)


class _Refused(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("refused")
        self.problems = problems


async def _apply(request: web.Request, change: str, value: str) -> web.Response:
    """An edit or a cancel in one transaction with its notices; the detail page with the chat's answer."""
    app = request.app[WORKPLACE].app
    found_id = announcement_id(request)
    async with app.db.transaction() as conn:
        announcement = await store.get(conn, found_id) if found_id is not None else None
        if announcement is None:
            return not_found(request)
        ctx = context(request, conn)
        if change == "cancel":
            await announce_web.cancel(ctx, announcement)
        else:
            await announce_web.edit(ctx, announcement, change, value)
        done: WebResult = announce_web.result(ctx, announcement.id)
        await app.engine.write_notifications(conn, list(done.notifications), ctx.now)
    channels = {note.recipient.channel for note in done.notifications}
    if channels:
        app.notifier.outbox_queued(channels)
    if done.schedule_changed:
        app.notifier.schedule_changed()
    # Nothing changed (a time that does not parse, too few places, already cancelled): the chat's
    # answer says why, and the status says it was refused.
    return await detail(request, done.messages, status=200 if done.schedule_changed else 400)


async def edit(request: web.Request) -> web.Response:
    if not may_announce(request):
        return forbidden(request)
    part = request.match_info.get("part", "")
    if part not in announce_web.EDIT_VERBS:
        return not_found(request)
    form = await request.post()
    return await _apply(request, part, str(form.get("value", "")))


async def cancel_page(request: web.Request) -> web.Response:
    """The confirmation: what is cancelled and how many will be told, as the chat asks it."""
    if not may_announce(request):
        return forbidden(request)
    found_id = announcement_id(request)
    app = request.app[WORKPLACE].app
    async with app.db.read() as conn:
        announcement = await store.get(conn, found_id) if found_id is not None else None
        if announcement is None:
            return not_found(request)
        ctx = context(request, conn)
        count = await announce_web.told_on_cancel(conn, announcement)
    signed = ctx.t("announce_cancel_signed", count=count) if count else ""
    question = ctx.t("announce_cancel_confirm", id=announcement.id, title=clip(announcement.text, 20), signed=signed)
    return render(request, "announce_cancel.html", {"id": announcement.id, "question": question})


async def cancel(request: web.Request) -> web.Response:
    if not may_announce(request):
        return forbidden(request)
    return await _apply(request, "cancel", "")
