"""Issue 15, the grid map in a real browser: headless Chromium (Playwright) against the real bot
(the Telegram channel against the fake Bot API, the workplace on the bot's own server, both on
127.0.0.1, no map tiles). A resident's report with a location in G01 misses every deadline up to
the subdistrict (the scheduler's own run); the G01 leader, signed in from chat, sees her grid
alone, drawn as overdue (the outline's class), with the ticket's pin, which opens the ticket.
The admin's map of all 39 grids is photographed: into the test's temporary folder, or into the
folder named by WORKPLACE_SCREENSHOTS (`WORKPLACE_SCREENSHOTS=docs .venv/bin/python -m pytest
tests/e2e/test_web_map.py` re-takes docs/workplace-map.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page

from bot.bootstrap import build_scheduler
from storage.clock import FakeClock
from tests.chat import actions, ticket_row
from tests.e2e.test_web_browser import LEADER, link_from_chat, screenshots, sign_in
from tests.telegram_harness import TelegramRun
from tests.web_harness import new_link

RESIDENT, NEIGHBOUR, FAR = 1001, 1002, 1003
IN_G01 = (32.3112, 118.3268)  # inside G01's sample outline, near 龙池公园
IN_G13 = (32.2980, 118.3045)  # inside G13's (西涧二村), far from every public place
pytestmark = pytest.mark.timeout(120)


async def report(run: TelegramRun, user_id: int, description: str, *, at: tuple[float, float] | None = None,
                 typed: str = "", place: bool = False) -> None:
    """A report as typed and tapped in chat: the location sent with the description; near a public
    place (`place`) the bot offers it and the resident takes it, else the address is typed."""
    fake, mark = run.fake, len(run.fake.sent)
    fake.push_text(user_id, "/report")
    await run.reply_to(user_id, "问题类别", after=mark)
    await run.press(user_id, "水电维修")
    await run.reply_to(user_id, "描述问题", after=mark)
    if at is not None:
        fake.push_location(user_id, *at)
        await run.reply_to(user_id, "已添加位置", after=mark)
    fake.push_text(user_id, description)
    if place:
        await run.reply_to(user_id, "附近", after=mark)
        await run.press(user_id, "是")
    else:
        await run.reply_to(user_id, "哪个社区", after=mark)
        fake.push_text(user_id, typed)
        await run.reply_to(user_id, "单元和门牌号", after=mark)
        await run.press(user_id, "跳过")
    await run.reply_to(user_id, "留个电话", after=mark)
    fake.push_text(user_id, "13812345678")
    await run.reply_to(user_id, "请确认", after=mark)
    await run.press(user_id, "提交")
    await run.reply_to(user_id, "工单号", after=mark)


async def missed_up_to_the_top(run: TelegramRun, clock: FakeClock, ticket: int) -> None:
    """Nobody acts: each 受理 window passes and the scheduler's run (what its tick does) blows the
    whistle one level up, until the miss at the subdistrict is recorded."""
    scheduler = build_scheduler(run.app)
    for _ in range(6):
        clock.advance(hours=3)
        await scheduler.run_due()
        if "overdue" in await actions(run.app, ticket):
            break
    assert (await ticket_row(run.app, ticket)).escalation_level == 3
    assert "overdue" in await actions(run.app, ticket)


async def open_map(page: Page, base: str) -> None:
    await page.goto(f"{base}/staff/map")
    await page.wait_for_selector("#grid-map.ready path.grid")


async def test_the_map_shows_the_grid_with_an_overdue_ticket_highlighted(
        web_run: TelegramRun, browser: BrowserContext, clock: FakeClock, tmp_path: Path) -> None:
    await web_run.bind(LEADER, "g01-leader")
    await report(web_run, RESIDENT, "龙池公园路灯不亮", at=IN_G01, place=True)
    assert (await ticket_row(web_run.app, 1)).grid_id == "G01"
    await missed_up_to_the_top(web_run, clock, 1)
    await report(web_run, NEIGHBOUR, "10栋水管漏水", typed="龙池花园10号楼")  # G02: open, in time
    await report(web_run, FAR, "二村5栋门口积水", at=IN_G13, typed="西涧二村5号楼")  # G13, another community
    page = await browser.new_page()
    url = await link_from_chat(web_run)
    base = url.split("/staff/login")[0]
    await sign_in(page, url)
    await page.click('nav a[href="/staff/map"]')
    await page.wait_for_selector("#grid-map.ready path.grid")
    outlines = await page.locator("path.grid").evaluate_all("paths => paths.map(p => p.getAttribute('class'))")
    assert len(outlines) == 1 and "grid-id-G01" in outlines[0] and "grid-overdue" in outlines[0], outlines
    # Drawn thick and solid (app.css), so it stands out in grey-scale print too.
    stroke = await page.locator("path.grid-id-G01").evaluate("p => getComputedStyle(p).strokeWidth")
    assert stroke == "4px"
    assert await page.inner_text(".grid-label") == "龙池花园第一网格：未办结 1 件，超时 1 件"
    assert await page.locator("a.pin").evaluate_all("pins => pins.map(p => p.dataset.ticket)") == ["1"]
    assert "pin-overdue" in (await page.get_attribute('a.pin[data-ticket="1"]', "class") or "")
    assert "漏水" not in await page.content() and "二村" not in await page.content()
    await page.click('a.pin[data-ticket="1"]')
    await page.wait_for_url(f"{base}/staff/tickets/1")
    assert "龙池公园路灯不亮" in await page.inner_text("dl.fields")
    # The admin's map: every grid, G01 overdue, G02 and G13 open, the others with nothing open.
    admin = await browser.new_page()
    await admin.goto(f"{base}/staff/login?token={await new_link(web_run.app, 'sd-admin-1')}")
    await admin.click("#sign-in")
    await admin.wait_for_selector("#board")
    await open_map(admin, base)
    states = await admin.locator("path.grid").evaluate_all(
        "paths => paths.map(p => p.getAttribute('class').split(' ').filter(c => c.startsWith('grid-')))")
    assert len(states) == 39
    assert {ids[1]: ids[0] for ids in states if ids[0] != "grid-clear"} == {
        "grid-id-G01": "grid-overdue", "grid-id-G02": "grid-open", "grid-id-G13": "grid-open"}
    assert sorted(await admin.locator("a.pin").evaluate_all("pins => pins.map(p => p.dataset.ticket)")) == ["1", "3"]
    await admin.screenshot(path=str(screenshots(tmp_path) / "workplace-map.png"), full_page=True)
    # A click on a grid opens the board filtered to it.
    await admin.click("path.grid-id-G25")
    await admin.wait_for_url(f"{base}/staff/?grid=G25")
    assert await admin.locator("select[name=grid] option[selected]").inner_text() == "丰乐亭苑网格"
