"""Announcements in the workplace in a real browser: headless Chromium (Playwright) against the
real bot (the Telegram channel against the fake Bot API, the workplace on the bot's own server,
both on 127.0.0.1). An admin creates an activity with a sign-up in the form (「周六上午九点」 as in
chat), the preview counts the bound group, the scheduled run fires on the injected clock and the
group's sendMessage arrives at the fake; residents sign up in chat; the admin cancels it after the
confirmation and the signed-up residents' chats get the cancellation."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, Page

from bot.bootstrap import build_scheduler
from storage.clock import FakeClock
from tests.chat import query
from tests.telegram_harness import TelegramRun

ADMIN, GROUP, RESIDENTS = 9001, -1001, (1001, 1002)
TEXT = "周六社区义诊，请带医保卡"
pytestmark = pytest.mark.timeout(120)  # e2e by its folder (tests/conftest.py)


async def admin_with_a_group(run: TelegramRun) -> str:
    """The admin bound, the group bound to 龙池社区; the sign-in link from 「工作台」."""
    await run.bind(ADMIN, "sd-admin-1")
    mark = len(run.fake.sent)
    run.fake.push_text(ADMIN, "/bindgroup longchi", chat_id=GROUP, chat_type="group")
    await run.reply_to(GROUP, "已绑定", after=mark)
    run.fake.push_text(ADMIN, "工作台")
    message = await run.reply_to(ADMIN, "登录链接", after=mark)
    return (message.text or "").splitlines()[-1]  # an http://127.0.0.1 link is the text's last line


async def create_in_the_browser(page: Page, link: str) -> int:
    await page.goto(link)
    await page.click("#sign-in")
    await page.wait_for_selector("#board")
    await page.click("#nav-announcements")
    await page.click("#new-announcement")
    await page.fill("#an-text", TEXT)
    await page.select_option("#an-target", "community:longchi")
    await page.fill("#an-when", "10:02")  # the fake clock reads 10:00 Beijing time
    await page.fill("#an-places", "20")
    await page.fill("#an-starts", "周六上午九点")
    await page.click("#an-preview")
    await page.wait_for_selector("#preview")
    assert await page.inner_text("#reach-telegram") == "1"
    assert await page.locator("#reach-zero").count() == 0
    await page.click("#an-create")
    said = await page.inner_text("p.flash")
    found = re.search(r"公告 #(\d+) 已安排", said)
    assert found, said  # not #1: the sample config declares announcements of its own
    return int(found.group(1))


async def sign_up(run: TelegramRun, user_id: int, announcement: int, contact: str) -> None:
    mark = len(run.fake.sent)
    run.fake.push_text(user_id, f"报名 {announcement}")
    await run.reply_to(user_id, "请留下姓名和电话", after=mark)
    run.fake.push_text(user_id, contact)
    await run.reply_to(user_id, "报名成功", after=mark)


async def posted(run: TelegramRun, page: Page, link: str, clock: FakeClock) -> int:
    """Made in the browser; the scheduler's run on the injected clock posts it to the group (not
    before its minute); the detail page then shows the group's delivery as sent."""
    made = await create_in_the_browser(page, link)
    scheduler = build_scheduler(run.app)
    await scheduler.run_due()
    assert not [m for m in run.fake.messages_to(GROUP) if TEXT in (m.text or "")]
    clock.advance(minutes=2)
    await scheduler.run_due()
    post = await run.fake.wait_for(lambda m: m.chat_id == GROUP and TEXT in (m.text or ""))
    assert post.text == f"📢 {TEXT}\n可报名：名额 20 人，活动时间 11-28 09:00。私聊本号发送「报名 {made}」即可报名。"
    await run.rows_when(GROUP, lambda rows: any(r.kind == "announcement" and r.status == "sent" for r in rows))
    await page.goto(page.url.split("/staff/")[0] + f"/staff/announcements/{made}")
    assert await page.locator('tr[data-state="sent"]').count() == 1
    assert "已送达 1 · 发送中 0 · 失败 0 · 已重发 0" in await page.inner_text("#delivery")
    return made


async def test_an_activity_made_in_the_browser_is_posted_to_the_group(
        web_run: TelegramRun, browser: BrowserContext, clock: FakeClock) -> None:
    link = await admin_with_a_group(web_run)
    page = await browser.new_page()
    made = await posted(web_run, page, link, clock)
    await page.click("#nav-announcements")
    row = page.locator(f'tr[data-announcement="{made}"]')
    assert "已送达 1" in await row.inner_text() and "已发送" in await row.inner_text()
    assert await query(web_run.app, "SELECT source, created_by FROM announcements WHERE id = ?", made) == [
        ("web", "sd-admin-1")]


async def test_cancelling_it_in_the_browser_tells_the_signed_up_residents(
        web_run: TelegramRun, browser: BrowserContext, clock: FakeClock) -> None:
    link = await admin_with_a_group(web_run)
    page = await browser.new_page()
    made = await posted(web_run, page, link, clock)
    await sign_up(web_run, RESIDENTS[0], made, "张三 13812345678")
    await sign_up(web_run, RESIDENTS[1], made, "李四 13912345678")
    await page.reload()
    await page.click("#signups-link")
    shown = await page.inner_text("#signups")
    assert "张三" in shown and "13812345678" in shown and "李四" in shown and "13912345678" in shown
    await page.go_back()
    await page.click("#cancel-link")
    assert "已有 2 人报名（含候补），会通知他们。" in await page.inner_text("#cancel-question")
    await page.click("#cancel-yes")
    assert f"公告 #{made} 已取消，已通知 2 位报名（含候补）的居民。" in await page.inner_text("p.flash")
    for resident in RESIDENTS:
        told = await web_run.fake.wait_for(lambda m, r=resident: m.chat_id == r and "已取消" in (m.text or ""))
        assert told.text == "😔 很抱歉，您报名的活动「周六社区义诊，请带医保卡」（原定 11-28 09:00）已取消。"
    assert await query(web_run.app, "SELECT status FROM announcements WHERE id = ?", made) == [("cancelled",)]
