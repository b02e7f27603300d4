"""Exports in a real browser: headless Chromium (Playwright) against the real bot (Telegram at the
fake Bot API, the workplace on the bot's own server, both on 127.0.0.1). A leader signed in from
chat downloads the board as Excel, and the workbook read back with openpyxl holds the board's rows;
with words in the filter, only those, and the words are not in any URL the browser asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import BrowserContext, Page, Request

from tests.e2e.test_web_browser import UPSTAIRS, link_from_chat, report, sign_in, two_grids
from tests.telegram_harness import TelegramRun

pytestmark = pytest.mark.timeout(90)


async def board_ids(page: Page) -> list[int]:
    return [int(n) for n in await page.locator("tr[data-ticket]").evaluate_all(
        "rows => rows.map(r => r.dataset.ticket)")]


async def download_xlsx(page: Page, tmp_path: Path, name: str) -> list[list[object]]:
    async with page.expect_download() as info:
        await page.click("#export-xlsx")
    download = await info.value
    assert download.suggested_filename.startswith("工单-") and download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / name
    await download.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_the_downloaded_workbook_holds_the_boards_rows(web_run: TelegramRun, browser: BrowserContext,
                                                             tmp_path: Path) -> None:
    await two_grids(web_run)  # #1 in the leader's grid G01, #2 in G02
    await report(web_run, UPSTAIRS, "3栋电梯不动了", "龙池花园3号楼")  # #3 in G01
    page = await browser.new_page()
    asked: list[str] = []

    def keep(request: Request) -> None:
        asked.append(request.url)
    page.on("request", keep)
    await sign_in(page, await link_from_chat(web_run))
    shown = await board_ids(page)
    assert sorted(shown) == [1, 3]
    rows = await download_xlsx(page, tmp_path, "all.xlsx")
    header = rows[0]
    assert header[:3] == ["工单", "状态", "类别"] and "联系电话" in header and "描述" in header
    assert [row[0] for row in rows[1:]] == shown  # the board's rows, in the board's order
    line = dict(zip(header, rows[1 + shown.index(1)], strict=True))
    assert line["联系电话"] == "13812345678" and line["网格"] == "龙池花园第一网格"
    assert "10栋水管漏水" not in {str(v) for row in rows for v in row}
    # With words in the filter: the board narrows, and so does the download.
    await page.fill("input[name=q]", "电梯")
    await page.click("form#filters button[type=submit]")
    await page.wait_for_selector("#board")
    assert await board_ids(page) == [3]
    filtered = await download_xlsx(page, tmp_path, "filtered.xlsx")
    assert [row[0] for row in filtered[1:]] == [3]
    assert any("/staff/exports/tickets" in url for url in asked)
    assert not any("exports" in url and "%E7%94%B5" in url for url in asked)  # 电梯 never in an export URL
