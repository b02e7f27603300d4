"""Announcements in the workplace over HTTP, after they were made: the list and the detail with
the delivery per target (sent, pending, failed, resent, no target), edit (text, start, places)
and cancel after a confirmation — both tell everyone signed up or waiting exactly as from chat —
the sign-up list with names and phones as given, and its CSV (UTF-8 BOM, formulas defused)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from aiohttp.test_utils import TestClient

from bot.app import App
from bot.bootstrap import build_app, build_scheduler
from bot.config import Config
from handlers.types import Channel
from storage import announcement_web, outbox
from storage import announcements as store
from storage.clock import FakeClock
from storage.outbox import OutboxStatus
from tests.chat import ChatUser, bind, file_report, query, read
from tests.integration.test_web_announcements import form_token, post_new
from tests.web_harness import page, sign_in, workplace


async def activity(client: TestClient, csrf: str, places: str = "2") -> None:
    status, body = await post_new(client, csrf, await form_token(client), text="社区义诊", places=places,
                                  starts="周六上午九点")
    assert status == 200, body


async def join(app: App, user_id: str, contact: str) -> ChatUser:
    """A resident signs up in chat (报名 1, then their contact) as in tests/flows/test_signups.py."""
    user = ChatUser(app, user_id)
    await user.say("报名 1")
    if "候补" in user.text:
        await user.press("候补")
    await user.say(contact)
    return user


async def three_signed(app: App) -> list[ChatUser]:
    """张三 and @李四 have the two places, -王五 waits."""
    return [await join(app, "r-1", "张三 13812345678"), await join(app, "r-2", "@李四 13912345678"),
            await join(app, "r-3", "-王五")]


async def told(user: ChatUser, words: str) -> int:
    return sum(words in r.text for r in await user.inbox())


async def test_the_sign_up_list_and_its_csv(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await activity(client, csrf)
        await three_signed(app)
        status, body = await page(client, "/staff/announcements/1/signups")
        assert status == 200 and "2/2 人" in body
        assert re.findall(r"<td>(\d)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]*)</td>", body) == [
            ("1", "已报名", "张三", "13812345678"), ("2", "已报名", "@李四", "13912345678"), ("1", "候补", "-王五", "")]
        response = await client.get("/staff/announcements/1/signups.csv")
        assert response.status == 200 and response.content_type == "text/csv"
        assert 'filename="signups-1.csv"' in response.headers["Content-Disposition"]
        raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [["序号", "状态", "姓名", "电话"], ["1", "已报名", "张三", "13812345678"],
                    ["2", "已报名", "'@李四", "13912345678"], ["1", "候补", "'-王五", ""]]


async def test_editing_tells_everyone_signed_up_or_waiting(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await activity(client, csrf)
        people = await three_signed(app)
        response = await client.post("/staff/announcements/1/edit/text", data={"csrf": csrf, "value": "社区义诊改在礼堂"})
        body = await response.text()
        assert response.status == 200 and "公告 #1 已更新为：社区义诊改在礼堂" in body and "已通知 3 位" in body
        assert [await told(p, "活动内容已更新为：社区义诊改在礼堂") for p in people] == [1, 1, 1]
        # A time that does not parse: the chat's words, nothing written, nobody told.
        response = await client.post("/staff/announcements/1/edit/start", data={"csrf": csrf, "value": "下周八"})
        assert response.status == 400 and "没看懂这个时间" in await response.text()
        made = await read(app, store.get, 1)
        assert made is not None and made.starts_at is not None and made.starts_at.day == 28
        assert [len(await p.inbox()) for p in people] == [1, 1, 1]
        response = await client.post("/staff/announcements/1/edit/start", data={"csrf": csrf, "value": "周日上午九点"})
        assert response.status == 200 and "已通知 3 位" in await response.text()
        assert [await told(p, "11-29 09:00") for p in people] == [1, 1, 1]
        # One more place: 王五 moves up and is told once, with the move; the others of the change.
        response = await client.post("/staff/announcements/1/edit/places", data={"csrf": csrf, "value": "3"})
        assert response.status == 200
        assert [await told(p, "名额") for p in people[:2]] == [1, 1]
        assert await told(people[2], "名额") == 0 and await told(people[2], "候补") == 1
        status, body = await page(client, "/staff/announcements/1")
        assert "修改内容" in body and "修改活动时间" in body and "修改名额" in body
    actions = await read(app, announcement_web.actions_of, 1)
    assert [(a.action, a.origin) for a in actions] == [("created", "web"), ("edited_text", "web"),
                                                       ("edited_start", "web"), ("edited_places", "web")]


async def test_cancel_asks_first_then_tells_everyone(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await activity(client, csrf)
        people = await three_signed(app)
        status, body = await page(client, "/staff/announcements/1/cancel")
        assert status == 200 and "确定取消公告 #1「社区义诊」吗？已有 3 人报名（含候补），会通知他们。" in body
        assert (await read(app, store.get, 1)).status == "active"  # type: ignore[union-attr]
        response = await client.post("/staff/announcements/1/cancel", data={"csrf": csrf})
        body = await response.text()
        assert response.status == 200 and "公告 #1 已取消，已通知 3 位报名（含候补）的居民。" in body
        assert [await told(p, "很抱歉，您报名的活动「社区义诊」（原定 11-28 09:00）已取消") for p in people] == [1, 1, 1]
        again = await client.post("/staff/announcements/1/cancel", data={"csrf": csrf})
        assert again.status == 400 and "已发送或已取消，不能再修改" in await again.text()
        edit = await client.post("/staff/announcements/1/edit/text", data={"csrf": csrf, "value": "又改"})
        assert edit.status == 400
    assert (await read(app, store.get, 1)).status == "cancelled"  # type: ignore[union-attr]
    assert [await told(p, "已取消") for p in people] == [1, 1, 1]  # told once
    assert [a.action for a in await read(app, announcement_web.actions_of, 1)] == ["created", "cancelled"]


async def test_the_list_shows_the_delivery_per_target(app: App) -> None:
    admin = ChatUser(app, "admin-tg", channel=Channel.TELEGRAM)
    await bind(app, admin, "sd-admin-1")
    for chat in ("-1001", "-1002", "-1003", "-1004"):
        await admin.say_in_group("/bindgroup longchi", chat, title=f"龙池群{chat[-1]}")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await post_new(client, csrf, await form_token(client), text="停水通知", target="community:longchi")
        await post_new(client, csrf, await form_token(client), text="南桥通知", target="community:nanqiao")
        await post_new(client, csrf, await form_token(client), text="下周的通知", when="下周一上午9点")
        await build_scheduler(app).run_due()
        rows = await query(app, "SELECT id FROM outbox WHERE kind = 'announcement' ORDER BY id")
        assert len(rows) == 4
        async with app.db.transaction() as conn:
            now = app.clock.now()
            await outbox.mark_sent(conn, rows[0][0], "m1", now)
            await outbox.mark_resend(conn, rows[1][0], now, "read timeout")
            await outbox.mark_sent(conn, rows[1][0], "m2", now)
            await outbox.mark_final(conn, rows[2][0], OutboxStatus.FAILED, "403 Forbidden: bot was kicked")
        status, body = await page(client, "/staff/announcements")
        assert status == 200
        row = {int(n): text for n, text in re.findall(r'data-announcement="(\d+)">(.*?)</tr>', body, re.S)}
        assert "已送达 1 · 发送中 1 · 失败 1 · 已重发 1" in row[1]
        assert "无可送达对象" in row[2] and "已送达" not in row[2]
        assert "尚未发送" in row[3] and "下次 11-30 09:00" in row[3]
        assert body.index('data-announcement="3"') < body.index('data-announcement="1"')  # scheduled first
        status, body = await page(client, "/staff/announcements/1")
        states = re.findall(r'<tr data-state="(\w+)"><td>[^<]*</td><td>([^<]*)</td>', body)
        assert states == [("sent", "龙池群1 · telegram"), ("resent", "龙池群2 · telegram"),
                          ("failed", "龙池群3 · telegram"), ("pending", "龙池群4 · telegram")]
        assert "bot was kicked" in body
        status, body = await page(client, "/staff/announcements/2")
        assert "1 次发送时没有可送达的群" in body


async def test_followers_are_counted_and_never_shown_by_their_openid(config: Config, clock: FakeClock,
                                                                     tmp_path: Path) -> None:
    wechat = config.wechat.model_copy(update={"app_id": "wx0123456789abcdef", "announce_to_followers": True})
    app = await build_app(config.model_copy(update={"wechat": wechat}), clock, tmp_path / "followers.db")
    try:
        await file_report(ChatUser(app, "oLongchiFollower", channel=Channel.WECHAT))  # lives in 龙池
        async with workplace(app) as client:
            csrf = await sign_in(client, app, "sd-admin-1")
            token = await form_token(client)
            status, body = await post_new(client, csrf, token, "preview", target="community:longchi")
            assert status == 200 and re.search(r'id="reach-followers">1<', body) and 'id="reach-zero"' not in body
            await post_new(client, csrf, token, target="community:longchi")
            await build_scheduler(app).run_due()
            status, body = await page(client, "/staff/announcements/1")
            assert '<tr data-state="pending">' in body and "微信关注者 · wechat" in body
            assert "oLongchiFollower" not in body
    finally:
        await app.close()
