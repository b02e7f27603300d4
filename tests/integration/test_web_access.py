"""The workplace's doors: what answers without a session (only /healthz and the sign-in
endpoint), one-time links (single use, 10 minutes, one person), sessions (cookie flags, 12 h
idle, sign-out, ended when the person's binding changes or they leave the config), the sign-in
rate limit, CSRF and the security headers. Over HTTP against the bot's own server."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.bootstrap import staff_seeds
from bot.config_channels import HttpSettings
from storage import web_sessions
from storage.accounts import sync_people
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, file_report, ticket_row
from tests.fakes.timer import FakeTimer
from tests.web_harness import new_link, page, sign_in, workplace

# Every route the workplace adds, with a real ticket number in it.
ROUTES = [
    ("GET", "/staff/"), ("GET", "/staff/board/rows"), ("GET", "/staff/overdue"), ("GET", "/staff/tickets/1"),
    ("GET", "/staff/static/htmx-2.0.4.min.js"), ("GET", "/staff/static/app.css"),
    ("GET", "/staff/static/leaflet-1.9.4.js"), ("POST", "/staff/logout"), ("POST", "/staff/tickets/1/ack"),
    ("POST", "/staff/tickets/1/resolve"), ("POST", "/staff/tickets/1/reassign"), ("POST", "/staff/tickets/1/note"),
]


async def test_nothing_but_sign_in_answers_without_a_session(app: App, resident: ChatUser) -> None:
    await file_report(resident, description="楼道灯坏了，电话13812345678", phone="13812345678")
    async with workplace(app) as client:
        for method, path in ROUTES:
            response = await client.request(method, path, allow_redirects=False)
            body = await response.text()
            assert response.status == 401, (method, path, response.status)
            assert "请先登录" in body and "楼道灯" not in body and "13812345678" not in body, path
        status, body = await page(client, "/staff/login")
        assert status == 200 and "发送「工作台」" in body
    assert (await ticket_row(app, 1)).status == "routed"  # the POSTs changed nothing


async def test_a_link_signs_in_once_for_its_person(app: App) -> None:
    async with workplace(app) as client:
        token = await new_link(app, "g01-leader")
        first = await client.post("/staff/login", data={"token": token}, allow_redirects=False)
        assert first.status == 303 and first.headers["Location"] == "/staff/"
        status, body = await page(client, "/staff/")
        assert status == 200 and "万秀英" in body
    async with workplace(app) as other:
        again = await other.post("/staff/login", data={"token": token}, allow_redirects=False)
        assert again.status == 410 and "登录链接已使用" in await again.text()
        assert "fengshan_staff" not in again.cookies
        wrong = await other.post("/staff/login", data={"token": token[:-2] + "xy"})
        assert wrong.status == 400 and "登录链接无效" in await wrong.text()
        assert (await page(other, "/staff/"))[0] == 401


async def test_a_link_expires_after_ten_minutes(app: App, clock: FakeClock) -> None:
    late, in_time = await new_link(app, "g01-leader"), await new_link(app, "g01-leader")
    clock.advance(minutes=9, seconds=59)
    async with workplace(app) as client:
        ok = await client.post("/staff/login", data={"token": in_time}, allow_redirects=False)
        assert ok.status == 303
    clock.advance(seconds=1)
    async with workplace(app) as client:
        expired = await client.post("/staff/login", data={"token": late}, allow_redirects=False)
        assert expired.status == 410 and "登录链接已过期" in await expired.text()
        assert (await page(client, "/staff/"))[0] == 401


async def test_the_login_page_only_shows_a_button(app: App) -> None:
    """GET never uses the link: a preview or a scanner fetching it leaves it usable."""
    token = await new_link(app, "g01-leader")
    async with workplace(app) as client:
        status, body = await page(client, f"/staff/login?token={token}")
        assert status == 200 and 'id="sign-in"' in body
        assert (await page(client, "/staff/"))[0] == 401
        signed = await client.post("/staff/login", data={"token": token}, allow_redirects=False)
        assert signed.status == 303


@pytest.mark.parametrize(("public_url", "secure"), [("", False), ("https://fengshan.example.cn", True)])
async def test_session_cookie_flags(app: App, public_url: str, secure: bool) -> None:
    http = HttpSettings(host="127.0.0.1", port=0, public_url=public_url)
    async with workplace(app, http=http) as client:
        response = await client.post("/staff/login", data={"token": await new_link(app, "g01-leader")},
                                     allow_redirects=False)
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/staff/" in cookie
    assert ("Secure" in cookie) is secure


async def test_a_session_ends_after_12_idle_hours(app: App, clock: FakeClock) -> None:
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")
        clock.advance(hours=11, minutes=59)
        assert (await page(client, "/staff/"))[0] == 200  # use restarts the idle clock
        clock.advance(hours=11, minutes=59)
        assert (await page(client, "/staff/overdue"))[0] == 200
        clock.advance(hours=12)
        status, body = await page(client, "/staff/")
        assert status == 401 and "请先登录" in body
    async with app.db.read() as conn:
        assert await web_sessions.sessions_of(conn, "g01-leader") == 0


async def test_sign_out_ends_the_session(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        out = await client.post("/staff/logout", data={"csrf": csrf})
        assert out.status == 200 and "已退出" in await out.text()
        assert (await page(client, "/staff/"))[0] == 401
    async with app.db.read() as conn:
        assert await web_sessions.sessions_of(conn, "g01-leader") == 0


async def test_sessions_end_when_the_binding_changes(app: App) -> None:
    async with workplace(app) as client, workplace(app) as second:
        await sign_in(client, app, "g01-leader")
        await sign_in(second, app, "g01-leader")
        # The person binds a (new) chat account: every session of theirs ends.
        await bind(app, ChatUser(app, "leader-phone-2"), "g01-leader")
        assert (await page(client, "/staff/"))[0] == 401
        assert (await page(second, "/staff/"))[0] == 401


async def test_sessions_end_when_the_person_leaves_the_config(app: App) -> None:
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")
        seeds = [seed for seed in staff_seeds(app.config) if seed.id != "g01-leader"]
        async with app.db.transaction() as conn:
            await sync_people(conn, seeds, app.clock.now())
            assert await web_sessions.end_stale_sessions(conn) == 1  # what the start does
        assert (await page(client, "/staff/"))[0] == 401
        # A link made before they left does not sign them in either.
        late = await client.post("/staff/login", data={"token": await new_link(app, "g01-leader")})
        assert late.status == 400


async def test_sign_in_attempts_are_rate_limited(app: App) -> None:
    timer = FakeTimer()
    async with workplace(app, timer) as client:
        for _ in range(10):
            wrong = await client.post("/staff/login", data={"token": "guess"})
            assert wrong.status == 400
        token = await new_link(app, "g01-leader")
        limited = await client.post("/staff/login", data={"token": token}, allow_redirects=False)
        assert limited.status == 429 and "尝试次数过多" in await limited.text()
        timer.now += 600
        allowed = await client.post("/staff/login", data={"token": token}, allow_redirects=False)
        assert allowed.status == 303  # the limited attempt did not use the link up


async def test_a_post_without_the_csrf_token_is_refused(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        for data in ({}, {"csrf": "not-the-token"}, {"csrf": csrf + "x"}):
            response = await client.post("/staff/tickets/1/ack", data=data)
            assert response.status == 403 and "操作未生效" in await response.text()
            out = await client.post("/staff/logout", data=data)
            assert out.status == 403
        assert (await ticket_row(app, 1)).status == "routed"
        assert (await page(client, "/staff/"))[0] == 200  # still signed in
        done = await client.post("/staff/tickets/1/ack", data={"csrf": csrf})
        assert done.status == 200
    assert (await ticket_row(app, 1)).status == "acknowledged"


async def test_security_headers_on_every_answer(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    async with workplace(app) as client:
        anonymous = await client.get("/staff/")
        await sign_in(client, app, "g01-leader")
        for path in ("/staff/", "/staff/tickets/1", "/staff/overdue", "/staff/board/rows", "/staff/tickets/99"):
            response = await client.get(path)
            headers = response.headers
            assert "script-src 'self';" in headers["Content-Security-Policy"], path
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store", path
            assert headers["Referrer-Policy"] == "no-referrer"
            assert "<script>" not in await response.text()  # no inline script anywhere
        static = await client.get("/staff/static/htmx-2.0.4.min.js")
        assert static.status == 200 and static.headers["X-Frame-Options"] == "DENY"
    assert anonymous.headers["X-Frame-Options"] == "DENY" and anonymous.headers["Cache-Control"] == "no-store"


async def test_map_tiles_are_the_only_other_origin(app: App) -> None:
    http = HttpSettings(host="127.0.0.1", port=0, map_tiles="https://tile.example.org/{z}/{x}/{y}.png")
    async with workplace(app, http=http) as client:
        policy = (await client.get("/staff/login")).headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tile.example.org;" in policy
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy


async def test_every_route_the_workplace_mounts_asks_for_a_session(app: App, resident: ChatUser) -> None:
    """Not only the routes listed above: every route of the workplace's router (the dashboard, map,
    exports, announcements and people pages included, and whatever is added later), with its
    placeholders filled, answers 401 without a session and shows nothing."""
    await file_report(resident, description="楼道灯坏了，电话13812345678", phone="13812345678")
    samples = {"id": "1", "action": "ack", "file": "1", "part": "text", "person": "g01-leader",
               "code": "ABCD1234", "kind": "png", "filename": "app.css"}
    async with workplace(app) as client:
        staff_app = next(r for r in client.server.app.router.resources() if r.canonical == "/staff")._app
        checked = []
        for route in staff_app.router.routes():
            if route.method == "HEAD":
                continue
            path = route.resource.canonical
            for name, value in samples.items():
                path = path.replace("{" + name + "}", value)
            if path in ("/staff/login",) or "{" in path:
                assert "{" not in path, f"no sample value for {route.resource.canonical}"
                continue
            response = await client.request(route.method, path, allow_redirects=False)
            body = await response.text()
            assert response.status == 401, (route.method, path, response.status)
            assert "楼道灯" not in body and "13812345678" not in body, path
            checked.append(path)
    assert {"/staff/dashboard", "/staff/map", "/staff/exports", "/staff/announcements",
            "/staff/people"} <= set(checked)
    assert (await ticket_row(app, 1)).status == "routed"
