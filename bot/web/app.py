"""The workplace's aiohttp application, mounted on the bot's own server under /staff/.

Middlewares, outermost first: security headers (every answer, errors included), the session
(everything but the sign-in endpoint needs one, the vendored static files too), the 办结 form's
larger body cap (a photo; bot/web/uploads.py), CSRF (every POST but the sign-in form). Templates are Jinja2 with autoescaping on; static files are vendored
in bot/web/static (see the README's list)."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.app import App
from bot.http_server import HttpServer
from bot.media import MediaStore, with_web_photos
from bot.ratelimit import LOOP_TIMER, Timer
from bot.web import (
    announcements,
    announcements_form,
    auth,
    board,
    dashboard,
    exports,
    files,
    map_page,
    overdue,
    people,
    people_import,
    ticket_page,
)
from bot.web.csrf import csrf_guard
from bot.web.keys import WORKPLACE, Workplace
from bot.web.security import security_headers
from bot.web.signin_limit import SignInLimiter
from bot.web.uploads import upload_size
from storage import web_sessions

log = logging.getLogger(__name__)

PREFIX = "/staff"
STATIC = Path(__file__).parent / "static"


def build_workplace(app: App, server: HttpServer, timer: Timer = LOOP_TIMER,
                    media: MediaStore | None = None) -> web.Application:
    http = server.settings
    public = frozenset({auth.LOGIN_PATH})
    sub = web.Application(middlewares=[
        security_headers(http.map_tiles, f"{PREFIX}/static/"),
        auth.session_guard(public),
        upload_size(),  # after the session: only signed-in staff may send a large body
        people_import.import_size(),  # a roster file: its own cap, as the 办结 photo
        csrf_guard(public),
    ])
    # Without channels (console, tests) the store still serves the workplace's own uploads.
    store = with_web_photos(media if media is not None else MediaStore(), app.db)
    sub[WORKPLACE] = Workplace(app, http, SignInLimiter(timer=timer), store)
    aiohttp_jinja2.setup(sub, loader=jinja2.PackageLoader("bot.web", "templates"),
                         autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                         undefined=jinja2.StrictUndefined)
    sub.router.add_get("/login", auth.login_page)
    sub.router.add_post("/login", auth.login)
    sub.router.add_post("/logout", auth.logout)
    sub.router.add_get("/", board.board_page)
    sub.router.add_get("/board/rows", board.board_rows)
    sub.router.add_get("/overdue", overdue.overdue_page)
    sub.router.add_get("/map", map_page.map_page)
    sub.router.add_get("/map/data", map_page.map_json)
    sub.router.add_get("/dashboard", dashboard.dashboard_page)
    sub.router.add_get("/tickets/{id}", ticket_page.ticket_page)
    sub.router.add_post("/tickets/{id}/{action}", ticket_page.ticket_action)
    sub.router.add_get("/tickets/{id}/files/{file}", files.ticket_file)
    sub.router.add_get("/announcements", announcements.list_page)
    sub.router.add_get("/announcements/new", announcements_form.new_page)  # before {id}: "new" is no id
    sub.router.add_post("/announcements/new", announcements_form.create)
    sub.router.add_get("/announcements/{id}", announcements.detail)
    sub.router.add_post("/announcements/{id}/edit/{part}", announcements_form.edit)
    sub.router.add_get("/announcements/{id}/cancel", announcements_form.cancel_page)
    sub.router.add_post("/announcements/{id}/cancel", announcements_form.cancel)
    sub.router.add_get("/announcements/{id}/signups", announcements.signups_page)
    sub.router.add_get("/announcements/{id}/signups.csv", announcements.signups_csv)
    sub.router.add_get("/exports", exports.exports_page)
    sub.router.add_post("/exports/tickets", exports.export_tickets)
    sub.router.add_post("/exports/rates", exports.export_rates)
    sub.router.add_get("/people", people.people_page)
    sub.router.add_post("/people/{person}/invite", people.issue_invite)
    sub.router.add_post("/people/{person}/unbind", people.unbind)
    sub.router.add_get("/people/invites/{code}.{kind}", people.invite_qr)
    sub.router.add_get("/people/import", people_import.import_page)
    sub.router.add_post("/people/import", people_import.dry_run)
    sub.router.add_post("/people/import/{id}/confirm", people_import.confirm)
    sub.router.add_static("/static/", STATIC, follow_symlinks=False)
    return sub


async def end_stale_sessions(app: App) -> None:
    """At start (the config's people were just synced): sessions of people who left or were
    rebound end now, not only at their next request."""
    async with app.db.transaction() as conn:
        ended = await web_sessions.end_stale_sessions(conn)
    if ended:
        log.info("workplace: %d sessions ended (binding changed or person left the config)", ended)


def mount_workplace(server: HttpServer, app: App, timer: Timer = LOOP_TIMER, media: MediaStore | None = None) -> None:
    """Add the workplace under /staff/ (before the server starts: a running app is frozen).
    `media`: the running channels' store, so the ticket page shows their photos."""
    server.app.add_subapp(f"{PREFIX}/", build_workplace(app, server, timer, media))
