"""The staff workplace over HTTP with aiohttp's test client: the bot's own server (bot/web
mounted on HttpServer) on 127.0.0.1, sessions and links in the app's database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.config_channels import HttpSettings
from bot.http_server import HttpServer
from bot.media import MediaStore
from bot.web import mount_workplace
from handlers.staff_link import LINK_VALID_FOR
from storage import web_sessions
from tests.fakes.timer import FakeTimer

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@asynccontextmanager
async def workplace(app: App, timer: FakeTimer | None = None,
                    http: HttpSettings | None = None, media: MediaStore | None = None) -> AsyncIterator[TestClient]:
    server = HttpServer(http or HttpSettings(host="127.0.0.1", port=0))
    mount_workplace(server, app, timer or FakeTimer(), media)
    async with TestClient(TestServer(server.app)) as client:
        yield client


async def new_link(app: App, person_id: str) -> str:
    """A link token as 「工作台」 makes one (the chat side is tested in tests/flows)."""
    async with app.db.transaction() as conn:
        return await web_sessions.create_link(conn, person_id, app.clock.now(), LINK_VALID_FOR)


async def sign_in(client: TestClient, app: App, person_id: str) -> str:
    """Sign in by a fresh link; the session's CSRF token, read from the board's forms."""
    response = await client.post("/staff/login", data={"token": await new_link(app, person_id)},
                                 allow_redirects=False)
    assert response.status == 303, await response.text()
    board = await client.get("/staff/")
    assert board.status == 200, await board.text()
    found = CSRF.search(await board.text())
    assert found is not None
    return found.group(1)


async def page(client: TestClient, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status, await response.text()
