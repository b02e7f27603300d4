"""The staff workplace in a real browser: headless Chromium (Playwright) against the real bot
(the Telegram channel against the fake Bot API, the workplace on the bot's own server, both on
127.0.0.1). A leader signs in through the link the bot sent to their chat, sees only their grid,
受理 and 办结 a ticket with a note and a photo (the resident's notices and the photo arrive at the
fake; the resident's report photo is shown in the page, fetched by the bot), is refused another grid's
ticket (404), a form without its CSRF token (403), a used and an expired link, and signs out.
The board and a ticket page are photographed: into the test's temporary folder, or into the folder
named by WORKPLACE_SCREENSHOTS (`WORKPLACE_SCREENSHOTS=docs .venv/bin/python -m pytest
tests/e2e/test_web_browser.py` re-takes the README's pictures), so a test run never changes the repository."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page

from storage.clock import FakeClock
from tests.chat import ticket_row
from tests.telegram_harness import TelegramRun

RESIDENT, NEIGHBOUR, UPSTAIRS, LEADER = 1001, 1002, 1003, 2001
pytestmark = pytest.mark.timeout(90)


def png(width: int, height: int, tint: tuple[int, int, int]) -> bytes:
    """A real PNG (a shaded picture, so the screenshot shows a photo), built without Pillow."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(min(255, c * (width + x) // (2 * width) + y // 4)
                                     for x in range(width) for c in tint) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


REPORT_PHOTO = png(320, 200, (250, 200, 90))  # the resident's, on the fake Telegram's file server
RESULT_PHOTO = png(160, 100, (90, 180, 250))  # the leader's upload with the 办结


async def report(run: TelegramRun, user_id: int, description: str, typed: str, *,
                 attach: bool = False) -> None:
    """A resident's report typed and tapped as in chat, up to its confirmation; with `attach`,
    a photo and the location sent with the description."""
    fake, mark = run.fake, len(run.fake.sent)
    fake.push_text(user_id, "/report")
    await run.reply_to(user_id, "问题类别", after=mark)
    await run.press(user_id, "水电维修")
    await run.reply_to(user_id, "描述问题", after=mark)
    if attach:
        fake.push_photo(user_id, "corridor-light-photo")
        await run.reply_to(user_id, "已添加照片", after=mark)
        fake.push_location(user_id, 32.30542, 118.31624)
        await run.reply_to(user_id, "已添加位置", after=mark)
    fake.push_text(user_id, description)
    await run.reply_to(user_id, "哪个社区", after=mark)
    fake.push_text(user_id, typed)  # an exact address: no 「哪一个」, the flat is asked next
    await run.reply_to(user_id, "单元和门牌号", after=mark)
    await run.press(user_id, "跳过")
    await run.reply_to(user_id, "留个电话", after=mark)
    fake.push_text(user_id, "13812345678")
    await run.reply_to(user_id, "请确认", after=mark)
    await run.press(user_id, "提交")
    await run.reply_to(user_id, "工单号", after=mark)


async def two_grids(run: TelegramRun) -> None:
    """The leader of G01 bound; #1 in their grid (龙池花园3栋), #2 in G02 (龙池花园10栋)."""
    await run.bind(LEADER, "g01-leader")
    await report(run, RESIDENT, "3栋楼道灯坏了，晚上很黑", "龙池花园3号楼", attach=True)
    await report(run, NEIGHBOUR, "10栋水管漏水", "龙池花园10号楼")


async def link_from_chat(run: TelegramRun) -> str:
    """The leader sends 「工作台」; the link button of the bot's answer."""
    mark = len(run.fake.sent)
    run.fake.push_text(LEADER, "工作台")
    message = await run.reply_to(LEADER, "登录链接", after=mark)
    # http://127.0.0.1:… is no address for a Telegram button: the link is the text's last line.
    return (message.text or "").splitlines()[-1]


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url)
    await page.click("#sign-in")
    await page.wait_for_selector("#board")


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("WORKPLACE_SCREENSHOTS") or tmp_path)
    folder.mkdir(exist_ok=True)
    return folder


async def test_leader_signs_in_from_chat_and_sees_only_their_grid(web_run: TelegramRun, browser: BrowserContext,
                                                                  tmp_path: Path) -> None:
    await two_grids(web_run)
    page = await browser.new_page()
    await page.clock.install()  # htmx's polling runs on the page's clock, moved by hand below
    await sign_in(page, await link_from_chat(web_run))
    assert await page.locator("tr[data-ticket]").evaluate_all("rows => rows.map(r => r.dataset.ticket)") == ["1"]
    assert "万秀英" in await page.inner_text("header")
    await page.screenshot(path=str(screenshots(tmp_path) / "workplace-board.png"), full_page=True)
    # Live: a new report in the grid appears without a reload at the next poll.
    await report(web_run, UPSTAIRS, "3栋电梯不动了", "龙池花园3号楼")
    await page.clock.fast_forward(11_000)
    await page.wait_for_selector('tr[data-ticket="3"]', timeout=10_000)
    assert "10栋水管漏水" not in await page.content()


@pytest.mark.both_engines  # the board, 受理, 办结 with an uploaded photo (BYTEA on PostgreSQL)
async def test_leader_acknowledges_and_resolves_and_the_resident_is_told(web_run: TelegramRun, browser: BrowserContext,
                                                                       tmp_path: Path) -> None:
    web_run.fake.files["corridor-light-photo"] = REPORT_PHOTO
    await two_grids(web_run)
    page = await browser.new_page()
    await sign_in(page, await link_from_chat(web_run))
    await page.click('a[href="/staff/tickets/1"]')
    await page.wait_for_selector("#timeline")
    assert await page.inner_text("#phone") == "13812345678"
    assert "共 1 张" in await page.inner_text("dl.fields")  # the resident's photo, listed
    # ... and shown: the bot fetched it from the fake Telegram (getFile, download) and served it.
    await page.wait_for_function(
        "() => { const i = document.querySelector('#photos img'); return i && i.complete && i.naturalWidth === 320 }")
    assert web_run.fake.token not in await page.content() and web_run.fake.url not in await page.content()
    await page.wait_for_selector("#map.ready .leaflet-interactive")  # Leaflet drew the point (no tiles)
    await page.screenshot(path=str(screenshots(tmp_path) / "workplace-ticket.png"), full_page=True)
    mark = len(web_run.fake.sent)
    await page.click("#ack")
    await page.wait_for_selector("text=已受理工单 #1")
    assert await page.inner_text("#status") == "处理中"
    notice = await web_run.reply_to(RESIDENT, "已由支部网格长", after=mark)
    assert "万秀英" in (notice.text or "")
    await page.fill("#resolve-note", "已更换灯泡")
    await page.set_input_files("#resolve-photo", files=[
        {"name": "灯泡.png", "mimeType": "image/png", "buffer": RESULT_PHOTO}])
    await page.click("#resolve")
    await page.wait_for_selector("text=工单 #1 已办结")
    photo = await web_run.fake.wait_for(lambda m: m.chat_id == RESIDENT and m.method == "sendPhoto", after=mark)
    assert web_run.fake.files[photo.photo or ""] == RESULT_PHOTO and photo.text == "工单 #1 办结照片"
    rating = await web_run.reply_to(RESIDENT, "已办结：已更换灯泡", after=mark)
    assert [b["text"] for b in rating.buttons] == ["满意", "基本满意", "不满意"]
    assert await page.locator(".badge.web").count() == 2  # 受理 and 办结, marked as from the web


async def test_refusals_another_grid_missing_csrf_used_and_expired_links(
        web_run: TelegramRun, browser: BrowserContext, clock: FakeClock) -> None:
    await two_grids(web_run)
    page = await browser.new_page()
    url = await link_from_chat(web_run)
    await sign_in(page, url)
    other = await page.goto(url.split("/staff/login")[0] + "/staff/tickets/2")
    assert other is not None and other.status == 404
    assert "没有找到" in await page.inner_text("h1") and "漏水" not in await page.content()
    # A form that lost its CSRF token is refused and changes nothing.
    await page.goto(url.split("/staff/login")[0] + "/staff/tickets/1")
    await page.locator("form[action$='/ack'] input[name=csrf]").evaluate("input => input.remove()")
    async with page.expect_response(lambda r: r.url.endswith("/ack")) as answer:
        await page.click("#ack")
    assert (await answer.value).status == 403
    assert "操作未生效" in await page.inner_text("h1")
    assert (await ticket_row(web_run.app, 1)).status == "routed"
    # The link is used: a second browser window cannot sign in with it.
    stranger = await browser.browser.new_context() if browser.browser else None
    fresh = await (stranger.new_page() if stranger else browser.new_page())
    await fresh.goto(url)
    await fresh.click("#sign-in")
    assert "登录链接已使用" in await fresh.inner_text("h1")
    # A link older than 10 minutes has expired.
    late = await link_from_chat(web_run)
    clock.advance(minutes=10, seconds=1)
    await fresh.goto(late)
    await fresh.click("#sign-in")
    assert "登录链接已过期" in await fresh.inner_text("h1")


async def test_sign_out(web_run: TelegramRun, browser: BrowserContext) -> None:
    await web_run.bind(LEADER, "g01-leader")
    page = await browser.new_page()
    url = await link_from_chat(web_run)
    await sign_in(page, url)
    await page.click("#sign-out")
    assert "已退出" in await page.inner_text("h1")
    board = await page.goto(url.split("/staff/login")[0] + "/staff/")
    assert board is not None and board.status == 401 and "请先登录" in await page.inner_text("h1")
