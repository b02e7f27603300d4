"""Sign-in by one-time link, server-side sessions, sign-out.

Only the sign-in endpoint answers without a session. GET shows a button (so a link preview or a
mail scanner fetching the URL cannot use up the link), POST redeems it: a wrong, used or expired
link gets its own page. The cookie holds a random token (its hash is the session's key), is
HttpOnly, SameSite=Lax, limited to /staff/, and Secure when the public URL is https.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import message_page, render
from storage import web_sessions
from storage.accounts import get_person
from storage.web_sessions import LinkState

log = logging.getLogger(__name__)

COOKIE = "fengshan_staff"
COOKIE_PATH = "/staff/"
IDLE = timedelta(hours=12)
LOGIN_PATH = "/staff/login"
LINK_PAGES = {
    LinkState.UNKNOWN: ("web_link_unknown_title", "web_link_unknown_body"),
    LinkState.USED: ("web_link_used_title", "web_link_used_body"),
    LinkState.EXPIRED: ("web_link_expired_title", "web_link_expired_body"),
}


def session_guard(public: frozenset[str]) -> Middleware:
    """Every path but `public` needs a live session; without one: 401 and how to sign in."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in public:
            return await handler(request)
        token = request.cookies.get(COOKIE, "")
        staff = await _staff(request, token) if token else None
        if staff is None:
            response = message_page(request, "web_signin_needed_title", "web_signin_needed_body", status=401)
            if token:
                response.del_cookie(COOKIE, path=COOKIE_PATH)
            return response
        request[STAFF] = staff
        return await handler(request)

    return middleware


async def _staff(request: web.Request, token: str) -> Staff | None:
    app = request.app[WORKPLACE].app
    async with app.db.transaction() as conn:
        session = await web_sessions.current_session(conn, token, app.clock.now(), IDLE)
        person = await get_person(conn, session.person_id) if session else None
    if session is None or person is None:
        return None
    return Staff(person, session.csrf, token)


async def login_page(request: web.Request) -> web.Response:
    token = request.query.get("token", "")
    if not token:
        return message_page(request, "web_signin_needed_title", "web_signin_needed_body")
    return render(request, "login.html", {"token": token})


async def login(request: web.Request) -> web.Response:
    workplace = request.app[WORKPLACE]
    if not workplace.limiter.allow(request.remote or "?"):
        log.warning("web sign-in attempts over the limit from one client")
        return message_page(request, "web_too_many_title", "web_too_many_body", status=429)
    form = await request.post()
    token = form.get("token")
    app = workplace.app
    now = app.clock.now()
    async with app.db.transaction() as conn:
        redeemed = await web_sessions.redeem_link(conn, token if isinstance(token, str) else "", now)
        binding = await web_sessions.binding_of(conn, redeemed.person_id) if redeemed.person_id else None
        session = (await web_sessions.create_session(conn, redeemed.person_id, binding, now)
                   if redeemed.person_id and binding is not None else None)
    if session is None:
        state = redeemed.state if redeemed.state is not LinkState.OK else LinkState.UNKNOWN
        log.warning("web sign-in refused: %s link", state.value)
        title, body = LINK_PAGES[state]
        return message_page(request, title, body, status=400 if state is LinkState.UNKNOWN else 410)
    log.info("web sign-in by %s", redeemed.person_id)
    response = web.HTTPSeeOther("/staff/")
    response.set_cookie(COOKIE, session[0], path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=workplace.secure_cookie)
    raise response


async def logout(request: web.Request) -> web.Response:
    staff: Staff = request[STAFF]
    app = request.app[WORKPLACE].app
    async with app.db.transaction() as conn:
        await web_sessions.end_session(conn, staff.token)
    log.info("web sign-out by %s", staff.person.id)
    request.pop(STAFF, None)
    response = message_page(request, "web_signed_out_title", "web_signed_out_body")
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response
