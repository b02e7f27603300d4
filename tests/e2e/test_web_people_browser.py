"""人员 → 导入 in a real browser (issue 15): headless Chromium against the real bot (Telegram against
the fake Bot API, the workplace on the bot's own server, both on 127.0.0.1). An admin signs in
through the link the bot sent to their chat, uploads a roster with one bad row — the dry run
names the row and the database is unchanged — then a good one, confirms it, and sees the new
people in the roster."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext

from tests.chat import query
from tests.telegram_harness import TelegramRun

ADMIN = 3001
pytestmark = pytest.mark.timeout(90)
HEADER = "社区,网格,角色,姓名,电话,编号\n"
BAD = HEADER + "龙池社区,G01,网格员,钱新苗,13905507701,imp-g01-w3\n龙池社区,G99,网格员,孙立新,,imp-g02-w3\n"
GOOD = HEADER + "龙池社区,G01,网格员,钱新苗,13905507701,imp-g01-w3\n龙池社区,G02,网格员,孙立新,,imp-g02-w3\n"


async def admin_link(run: TelegramRun) -> str:
    """The admin, bound in chat, sends 「工作台」; the link is the answer's last line."""
    await run.bind(ADMIN, "sd-admin-1")
    mark = len(run.fake.sent)
    run.fake.push_text(ADMIN, "工作台")
    message = await run.reply_to(ADMIN, "登录链接", after=mark)
    return (message.text or "").splitlines()[-1]


async def test_a_roster_with_a_bad_row_writes_nothing_then_a_good_one_is_imported(
        web_run: TelegramRun, browser: BrowserContext) -> None:
    people_before = await query(web_run.app, "SELECT id, name, source FROM people ORDER BY id")
    page = await browser.new_page()
    await page.goto(await admin_link(web_run))
    await page.click("#sign-in")
    await page.wait_for_selector("#board")
    await page.click("#nav-people")
    await page.wait_for_selector("#roster")
    await page.click("#import-link")
    await page.wait_for_selector("#import-form")
    import_page = page.url

    await page.set_input_files("#import-file", files=[
        {"name": "名单.csv", "mimeType": "text/csv", "buffer": BAD.encode("utf-8-sig")}])
    await page.click("#dry-run")
    problems = await page.inner_text("#problems")
    assert "第 3 行" in problems and "没有名为「G99」的网格" in problems and "第 2 行" not in problems
    assert "没有写入任何数据" in await page.inner_text("#dry-run-problems")
    assert await page.query_selector("#confirm-import") is None
    assert await query(web_run.app, "SELECT id, name, source FROM people ORDER BY id") == people_before

    await page.goto(import_page)
    await page.set_input_files("#import-file", files=[
        {"name": "名单.csv", "mimeType": "text/csv", "buffer": GOOD.encode("gbk")}])
    await page.click("#dry-run")
    assert "2 行全部通过检查" in await page.inner_text("#dry-run-ok")
    assert await query(web_run.app, "SELECT id, name, source FROM people ORDER BY id") == people_before
    await page.click("#confirm-import")
    await page.wait_for_selector("text=新增 2 人")

    await page.click("#nav-people")
    roster = await page.inner_text("#roster")
    assert "钱新苗" in roster and "孙立新" in roster
    imported = await query(web_run.app, "SELECT id, grid_id, role FROM people WHERE source = 'import' ORDER BY id")
    assert imported == [("imp-g01-w3", "G01", "worker"), ("imp-g02-w3", "G02", "worker")]
    history = await query(web_run.app, "SELECT status, row_count, problem_count, added, person_id FROM roster_imports"
                                       " ORDER BY id")
    assert history == [("refused", 2, 1, 0, "sd-admin-1"), ("done", 2, 0, 2, "sd-admin-1")]
