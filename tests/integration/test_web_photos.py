"""The ticket page's photos over HTTP: served by the bot from the platform (the fake Telegram's
getFile and file download) to signed-in staff whose scope holds the ticket only, under that
ticket's URL only; failures are a placeholder; and 办结 with an uploaded photo (CSRF, type by
content, size) that the resident's notice carries as a photo from source "web"."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import App
from bot.channels.telegram.media import TelegramMedia
from bot.channels.telegram.transport import build_bot
from bot.media import MediaStore
from bot.web.uploads import UPLOAD_LIMIT
from handlers.types import Channel
from storage import privacy
from storage.attachments import add_photo
from tests.chat import ChatUser, notifications, query, ticket_row
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.web_harness import page, sign_in, workplace

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00resident photo bytes"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR staff photo bytes"


@pytest.fixture
async def media(fake: FakeTelegramAPI) -> AsyncIterator[MediaStore]:
    """The real Telegram fetcher against the fake Bot API, as run_channels registers it."""
    bot = build_bot(fake.token, f"{fake.url}/bot", fake.file_url)
    store = MediaStore()
    store.register("telegram", TelegramMedia(bot))
    async with bot:
        yield store


def telegram_file(fake: FakeTelegramAPI, file_id: str, data: bytes) -> None:
    fake.files[file_id] = data
    fake.file_paths[file_id] = f"photos/{file_id}.jpg"


async def two_tickets_with_photos(app: App, fake: FakeTelegramAPI) -> None:
    """#1 in G01 with photo 1 (Telegram), #2 in G02 with photo 2 (Telegram)."""
    from tests.integration.test_web_tickets import two_grids
    await two_grids(app, ChatUser(app, "resident-1"))
    telegram_file(fake, "tg-photo-1", JPEG)
    telegram_file(fake, "tg-photo-2", JPEG + b" of G02")
    async with app.db.transaction() as conn:
        await add_photo(conn, 1, "telegram", "tg-photo-1", "resident", app.clock.now())
        await add_photo(conn, 2, "telegram", "tg-photo-2", "resident", app.clock.now())


async def test_the_page_shows_the_photo_the_bot_fetched(app: App, fake: FakeTelegramAPI, media: MediaStore) -> None:
    await two_tickets_with_photos(app, fake)
    async with workplace(app, media=media) as client:
        await sign_in(client, app, "g01-leader")
        status, body = await page(client, "/staff/tickets/1")
        assert status == 200 and '<img src="/staff/tickets/1/files/1"' in body
        assert fake.url not in body and fake.token not in body and "tg-photo-1" not in body
        response = await client.get("/staff/tickets/1/files/1")
        assert response.status == 200 and await response.read() == JPEG
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_photos_outside_the_scope_or_under_another_ticket_are_404(
        app: App, fake: FakeTelegramAPI, media: MediaStore) -> None:
    await two_tickets_with_photos(app, fake)
    async with workplace(app, media=media) as client:
        await sign_in(client, app, "g01-leader")
        for path in ("/staff/tickets/2/files/2",  # G02's ticket
                     "/staff/tickets/1/files/2",  # G02's photo under the leader's own ticket
                     "/staff/tickets/1/files/99", "/staff/tickets/1/files/x", "/staff/tickets/9/files/1"):
            status, body = await page(client, path)
            assert status == 404 and "没有这张工单" in body, path
    async with workplace(app, media=media) as anonymous:  # no session
        status, body = await page(anonymous, "/staff/tickets/1/files/1")
        assert status == 401 and "请先登录" in body and "resident photo" not in body
        upload = await anonymous.post("/staff/tickets/1/resolve", data=resolve_form("forged", JPEG))
        assert upload.status == 401
    assert (await ticket_row(app, 1)).status == "routed"


async def test_a_photo_the_platform_cannot_give_is_a_placeholder_and_logged(
        app: App, fake: FakeTelegramAPI, media: MediaStore, caplog: pytest.LogCaptureFixture) -> None:
    await two_tickets_with_photos(app, fake)
    async with app.db.transaction() as conn:
        await add_photo(conn, 1, "telegram", "gone-from-telegram", "resident", app.clock.now())
        await add_photo(conn, 1, "wechat", "no-wechat-channel", "resident", app.clock.now())
    caplog.set_level(logging.INFO)
    async with workplace(app, media=media) as client:
        await sign_in(client, app, "g01-leader")
        fake.fail_next("getFile", status=400, description="Bad Request: wrong file_id or the file is temporarily unavailable")
        for number in (3, 4):
            response = await client.get(f"/staff/tickets/1/files/{number}")
            assert response.status == 502 and response.headers["Content-Type"].startswith("image/svg+xml")
            assert "照片暂时无法加载" in await response.text()
            assert response.headers["Cache-Control"] == "private, no-store"
    failures = [r.getMessage() for r in caplog.records if "not fetched" in r.getMessage()]
    assert len(failures) == 2, failures
    assert not any(fake.token in f or "gone-from-telegram" in f or "no-wechat" in f for f in failures), failures


async def test_console_photos_are_named_not_fetched(app: App, resident: ChatUser) -> None:
    await file_with_console_photo(app, resident)
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")
        status, body = await page(client, "/staff/tickets/1")
        assert status == 200 and "这张照片在控制台里" in body and "<img" not in body


async def file_with_console_photo(app: App, resident: ChatUser) -> None:
    from tests.chat import file_report
    await file_report(resident)
    async with app.db.transaction() as conn:
        await add_photo(conn, 1, "console", "console-photo-1", "resident", app.clock.now())


def resolve_form(csrf: str | None, data: bytes, filename: str = "现场.jpg", text: str = "已修好") -> aiohttp.FormData:
    form = aiohttp.FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field("text", text)
    form.add_field("photo", data, filename=filename, content_type="image/jpeg")
    return form


async def test_resolve_with_a_photo_sends_it_to_the_resident_as_a_photo(app: App) -> None:
    resident = ChatUser(app, "tg-resident", Channel.TELEGRAM)
    from tests.chat import file_report
    await file_report(resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        response = await client.post("/staff/tickets/1/resolve", data=resolve_form(csrf, PNG, "shot.png"))
        assert response.status == 200 and "已办结" in await response.text()
        assert (await ticket_row(app, 1)).status == "resolved"
        assert await query(app, "SELECT channel, ref, added_by FROM ticket_photos WHERE ticket_id = 1") == [
            ("web", "1", "g01-leader")]
        photos = [(n.channel, n.payload) for n in await notifications(app) if n.payload.get("photo")]
        assert [(c, p["photo"], p["media_from"]) for c, p in photos] == [("telegram", "1", "web")], photos
        # The page serves the upload back from the database, typed by its bytes.
        _, body = await page(client, "/staff/tickets/1")
        served = await client.get("/staff/tickets/1/files/1")
        assert '<img src="/staff/tickets/1/files/1"' in body
        assert await served.read() == PNG and served.headers["Content-Type"] == "image/png"
    # Erasure takes the bytes with the ticket's other photos.
    resident_id = (await ticket_row(app, 1)).resident_id
    async with app.db.transaction() as conn:
        await privacy.erase_resident(conn, resident_id, app.clock.now())
    assert await query(app, "SELECT COUNT(*) FROM web_photos") == [(0,)]


@pytest.mark.parametrize(("csrf", "data", "status", "shown"), [
    (None, JPEG, 403, "操作未生效"),  # no CSRF token
    ("wrong", JPEG, 403, "操作未生效"),
    ("ok", b"GIF89a not accepted", 400, "只能上传 JPG 或 PNG"),
    ("ok", b"<svg xmlns='http://www.w3.org/2000/svg'/>", 400, "只能上传 JPG 或 PNG"),  # named .jpg
    ("ok", b"\xff\xd8\xff" + b"0" * UPLOAD_LIMIT, 413, "照片太大"),  # just over the limit
    ("ok", b"\xff\xd8\xff" + b"0" * (UPLOAD_LIMIT + 512 * 1024), 413, "照片太大"),  # over the request cap
], ids=["no-csrf", "wrong-csrf", "gif", "svg-named-jpg", "over-10mb", "over-request-cap"])
async def test_a_refused_upload_changes_nothing(app: App, resident: ChatUser, csrf: str | None, data: bytes,
                                                status: int, shown: str) -> None:
    from tests.chat import file_report
    await file_report(resident)
    before = await notifications(app)
    async with workplace(app) as client:
        token = await sign_in(client, app, "g01-leader")
        sent = token if csrf == "ok" else csrf
        response = await client.post("/staff/tickets/1/resolve", data=resolve_form(sent, data))
        assert response.status == status and shown in await response.text()
    assert (await ticket_row(app, 1)).status == "routed"
    assert await query(app, "SELECT COUNT(*) FROM web_photos") == [(0,)]
    assert await query(app, "SELECT COUNT(*) FROM ticket_photos") == [(0,)]
    assert await notifications(app) == before
