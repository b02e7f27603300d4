"""The 三率 dashboard in a real browser (headless Chromium through Playwright, against the real
bot on 127.0.0.1 with the fake Bot API): an admin opens the dashboard of 龙池社区 for a seeded
October and reads the same three rates as `fengshan-bot stats` prints for it (the command run
in its own process on the same database); the charts are drawn by the vendored Chart.js without
breaking the CSP; printed, the navigation and the form are left out. The page is photographed
into the test's temporary folder, or into WORKPLACE_SCREENSHOTS (`WORKPLACE_SCREENSHOTS=docs
.venv/bin/python -m pytest tests/e2e/test_web_dashboard_browser.py` re-takes the README's picture)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from bot.config import Config
from storage.tickets import EventAction
from tests.e2e.test_cli import run_cli, write_config
from tests.e2e.test_web_browser import screenshots
from tests.flows.test_stats import Log, utc
from tests.telegram_harness import TelegramRun
from tests.web_harness import new_link

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def seed_october(run: TelegramRun) -> None:
    """A month of 龙池社区's tickets: G01 eight (some late, one withdrawn, one reopened by 不满意,
    ratings), G07 three; and two of 南桥 (not in the community's figures)."""
    async with run.app.db.transaction() as conn:
        log = Log(conn, run.app.config)
        for day in range(1, 9):  # G01: 1–8 October, 10:00 local
            created = utc(2026, 10, day, 2)
            ticket = await log.ticket(created, "G01")
            await log.event(ticket, created + timedelta(hours=1 if day % 3 else 3), EventAction.ACKNOWLEDGED)
            if day == 8:
                await log.event(ticket, created + timedelta(hours=5), EventAction.CANCELLED, actor_kind="resident")
                continue
            await log.event(ticket, created + timedelta(hours=20 if day % 4 else 60), EventAction.RESOLVED)
            if day == 5:
                await log.rate(ticket, created + timedelta(hours=21), "unsatisfied")
                await log.event(ticket, created + timedelta(hours=21), EventAction.REOPENED, actor_kind="system")
            elif day % 2:
                await log.rate(ticket, created + timedelta(hours=21), "satisfied")
            else:
                await log.rate(ticket, created + timedelta(hours=25), "mostly_satisfied")
        for day in (12, 15, 20):
            created = utc(2026, 10, day, 3)
            ticket = await log.ticket(created, "G07", category="dispute")
            await log.event(ticket, created + timedelta(hours=2), EventAction.ACKNOWLEDGED)
            if day != 20:
                await log.event(ticket, created + timedelta(hours=30), EventAction.RESOLVED)
        for day in (3, 4):
            await log.ticket(utc(2026, 10, day, 2), "G11")
        # July to September, so the trend has a line: each month a little better than the last.
        for month, late in ((7, 3), (8, 2), (9, 1)):
            for index in range(5):
                created = utc(2026, month, 10 + index, 2)
                ticket = await log.ticket(created, "G01" if index % 2 else "G07")
                slow = index < late
                await log.event(ticket, created + timedelta(hours=3 if slow else 1), EventAction.ACKNOWLEDGED)
                await log.event(ticket, created + timedelta(hours=80 if slow else 24), EventAction.RESOLVED)
                await log.rate(ticket, created + timedelta(hours=90), "unsatisfied" if index == 0 else "satisfied")


async def test_the_dashboard_reads_as_the_command_line(web_run: TelegramRun, browser: BrowserContext,
                                                       config: Config, tmp_path: Path) -> None:
    await seed_october(web_run)
    base = web_run.app.config.http.base_url()
    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    failed: list[str] = []
    page.on("response", lambda answer: failed.append(answer.url) if answer.status >= 400 else None)
    await page.goto(f"{base}/staff/login?token={await new_link(web_run.app, 'sd-admin-1')}")
    await page.click("#sign-in")
    await page.wait_for_selector("#board")
    await page.click("text=三率统计")  # the navigation's link
    await page.wait_for_selector("#dash-title")
    await page.select_option("#dash-scope", "longchi")
    await page.fill("input[name=from]", "2026-10-01")
    await page.fill("input[name=to]", "2026-10-31")
    await page.select_option("#dash-period", "custom")
    await page.click("form.dash-filters button")
    await page.wait_for_selector("text=2026年10月1日–2026年10月31日")
    # The same month by its name, as `--period 2026-10` says it.
    await page.goto(f"{base}/staff/dashboard?scope=longchi&period=2026-10")
    await page.wait_for_selector("body.charts-ready")
    assert await page.inner_text("#dash-title") == "【三率】龙池社区 · 2026年10月"
    assert await page.locator("#dash-period option:checked").inner_text() == "2026年10月"
    shown = [f"{name} {await page.inner_text(f'#dash-{key}')}"
             for name, key in (("响应率", "response"), ("办结率", "resolution"), ("满意率", "satisfaction"))]

    cli_config = write_config(tmp_path, lambda data: data["storage"].update(url=config.storage.url))
    printed = run_cli("--config", str(cli_config), "stats", "--scope", "longchi", "--period", "2026-10")
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == "【三率】龙池社区 · 2026年10月"
    assert lines[2:5] == shown
    # Worked by hand: 10 counted (#8 withdrawn); 受理 in time all but days 3 and 6 → 8/10;
    # 办结 in time: G01 days 1 2 3 6 7 (4 late, 5 reopened), G07 12th and 15th (20th open,
    # its 72 h over) → 7/10; rated 7, satisfied 6.
    assert shown == ["响应率 80%（8/10）", "办结率 70%（7/10）", "满意率 86%（6/7）"]
    assert lines[1] == f"工单 10 件（另有 {await page.inner_text('#dash-withdrawn')}办结前被居民撤销，不计入）"

    # The charts drew (Chart.js from /staff/static, no CSP report, no script error).
    assert await page.locator("figure.chart.ready canvas").count() == 2
    # Every answer the page asked for was good; the only console error is the 404 of the
    # browser's own /favicon.ico request (not a page request: not in `failed`), which the bot lacks.
    assert failed == []
    assert [p for p in problems if "404 (Not Found)" not in p] == []
    # The grid ranking: G01 (7 counted) ranked; G07 (3) apart as a small sample.
    assert await page.inner_text("#dash-ranking tbody tr th") == "G01 龙池花园第一网格"
    assert "G07 琅琊新村第二网格" in await page.inner_text("#dash-small")
    await page.screenshot(path=str(screenshots(tmp_path) / "workplace-dashboard.png"), full_page=True)
    # Printed: the numbers and charts, without the navigation and the form.
    await page.emulate_media(media="print")
    assert not await page.is_visible("form.dash-filters") and not await page.is_visible("header.top nav")
    assert await page.is_visible("#trend-chart") and await page.is_visible("#dash-rates")
