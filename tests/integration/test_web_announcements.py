"""Announcements in the workplace over HTTP, creating them: the form reads text, target, time and
sign-up by the chat's rules (「周六上午九点」 works), the preview counts the groups and followers it
will reach (and warns at zero), a post of the same form twice makes one announcement, a refused
draft writes nothing, and only the people who may announce in chat (subdistrict admins) may:
everyone else is refused server-side, forged targets and other announcements included."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from bot.app import App
from bot.run_channels import sync_robots
from bot.settings import Settings
from handlers.types import Channel
from storage import announcement_web
from storage import announcements as store
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, query, read
from tests.web_harness import page, sign_in, workplace

TOKEN = re.compile(r'name="token" value="([^"]*)"')


async def form_token(client: TestClient) -> str:
    status, body = await page(client, "/staff/announcements/new")
    assert status == 200, body
    found = TOKEN.search(body)
    assert found is not None
    return found.group(1)


async def post_new(client: TestClient, csrf: str, token: str, step: str = "create", **fields: str) -> tuple[int, str]:
    data = {"csrf": csrf, "token": token, "step": step, "text": "停水通知", "target": "all", "when": "立即",
            "places": "", "starts": "", **fields}
    response = await client.post("/staff/announcements/new", data=data)
    return response.status, await response.text()


async def announcement_count(app: App) -> int:
    return len(await read(app, store.recent, 100))


async def test_an_admin_creates_an_activity_with_a_spoken_time(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await page(client, "/staff/announcements")
        assert status == 200 and "还没有公告" in body and 'id="nav-announcements"' in body
        token = await form_token(client)
        status, body = await post_new(client, csrf, token, "create", text="社区义诊", target="community:longchi",
                                      when="明天上午9点", places="30", starts="周六上午九点")
        assert status == 200, body
        assert "✅ 公告 #1 已安排" in body and "11-27 09:00" in body
    made = await read(app, store.get, 1)
    assert made is not None and made.source == "web" and made.created_by == "sd-admin-1"
    assert (made.target_kind, made.target_id, made.capacity) == ("community", "longchi", 30)
    # The Thursday 10:00 clock: 明天上午9点 is Friday 09:00, 周六上午九点 Saturday 09:00 (UTC+8).
    assert made.next_run_at == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    assert made.starts_at == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    actions = await read(app, announcement_web.actions_of, 1)
    assert [(a.person_id, a.action, a.origin) for a in actions] == [("sd-admin-1", "created", "web")]


async def test_the_preview_counts_what_it_will_reach_and_warns_at_zero(app: App) -> None:
    admin = ChatUser(app, "admin-tg", channel=Channel.TELEGRAM)
    await bind(app, admin, "sd-admin-1")  # before signing in: a new binding ends the person's sessions
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        token = await form_token(client)
        status, body = await post_new(client, csrf, token, "preview", target="community:longchi")
        assert status == 200 and 'id="reach-zero"' in body and "⚠️ 目前没有可送达的群或关注者" in body
        assert 'id="an-create"' in body
        for chat in ("-1001", "-1002"):
            await admin.say_in_group("/bindgroup longchi", chat, title="龙池群")
        await admin.say_in_group("/bindgroup nanqiao", "-1003", title="南桥群")
        await sync_robots(app, Settings(wecom_robot_keys={"longchi-huayuan": "key"}))
        status, body = await post_new(client, csrf, token, "preview", target="community:longchi")
        assert status == 200 and 'id="reach-zero"' not in body
        assert re.search(r'id="reach-telegram">2<', body) and re.search(r'id="reach-wecom">1<', body)
        assert re.search(r'id="reach-followers">0<', body)
    assert await announcement_count(app) == 0  # a preview writes nothing


async def test_posting_the_same_form_twice_makes_one_announcement(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        token = await form_token(client)
        first = await post_new(client, csrf, token)
        assert first[0] == 200 and "公告 #1 已安排" in first[1]
        again = await post_new(client, csrf, token)
        assert again[0] == 409 and "已经提交过，没有重复发布（公告 #1）" in again[1]
        forged = await post_new(client, csrf, "made-up-token")
        assert forged[0] == 400 and "表单已失效" in forged[1]
        # A fresh form is a new announcement.
        assert (await post_new(client, csrf, await form_token(client)))[0] == 200
    assert await announcement_count(app) == 2


async def test_a_form_left_open_a_week_is_stale(app: App, clock: FakeClock) -> None:
    async with workplace(app) as client:
        await sign_in(client, app, "sd-admin-1")
        old = await form_token(client)
        clock.advance(days=7, seconds=1)
        csrf = await sign_in(client, app, "sd-admin-1")  # the session, idle for a week, ended too
        assert (await post_new(client, csrf, await form_token(client)))[0] == 200  # a new form clears old tokens
        status, body = await post_new(client, csrf, old)
        assert status == 400 and "表单已失效" in body
    assert await announcement_count(app) == 1


async def test_a_token_is_the_persons_own(app: App) -> None:
    async with workplace(app) as first, workplace(app) as second:
        await sign_in(first, app, "sd-admin-1")
        token = await form_token(first)
        other = await sign_in(second, app, "sd-admin-2")
        status, body = await post_new(second, other, token)
        assert status == 400 and "表单已失效" in body
    assert await announcement_count(app) == 0


async def test_a_bad_draft_says_why_and_writes_nothing(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        token = await form_token(client)
        cases = [({"when": "下周八"}, "没看懂这个时间"), ({"when": "昨天上午9点"}, "这个时间已经过去了"),
                 ({"when": "明天3点"}, "是上午还是下午"), ({"when": "周六"}, "请说明几点"), ({"text": "  "}, "公告内容"),
                 ({"target": "community:nowhere"}, "没有找到这个社区或网格"),
                 ({"places": "30", "starts": "昨天上午9点"}, "格式不对，或活动开始时间早于发布时间"),
                 ({"when": "每周一 08:00", "places": "30", "starts": "周六上午九点"}, "重复发送的公告不能设置报名")]
        for fields, said in cases:
            status, body = await post_new(client, csrf, token, **fields)
            assert status == 400 and said in body, (fields, body)
        # Nothing was written and the form's token is still good.
        assert await announcement_count(app) == 0
        status, body = await post_new(client, csrf, token)
        assert status == 200 and "公告 #1 已安排" in body


async def test_text_is_shown_escaped(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await post_new(client, csrf, await form_token(client),
                                      text='<script>alert("x")</script>\n<b>第二行</b>')
        assert status == 200
        for path in ("/staff/announcements/1", "/staff/announcements"):
            status, body = await page(client, path)
            assert status == 200 and "<script>alert" not in body and "<b>第二行" not in body
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    made = await read(app, store.get, 1)
    assert made is not None and made.text == '<script>alert("x")</script>\n<b>第二行</b>'  # stored as typed


async def test_a_post_without_the_csrf_token_changes_nothing(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        token = await form_token(client)
        status, _ = await post_new(client, "wrong", token)
        assert status == 403
        await post_new(client, csrf, await form_token(client), places="5", starts="周六上午九点")
        for path in ("/staff/announcements/1/edit/text", "/staff/announcements/1/cancel"):
            response = await client.post(path, data={"value": "改了"})
            assert response.status == 403, path
    made = await read(app, store.get, 1)
    assert made is not None and made.text == "停水通知" and made.status == "active"
    assert await announcement_count(app) == 1


async def test_only_admins_may_and_forged_posts_are_refused(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await post_new(client, csrf, await form_token(client), target="community:nanqiao", places="5",
                       starts="周六上午九点")
    before = await query(app, "SELECT id, text, status, capacity FROM announcements")
    for person in ("g01-leader", "longchi-staff-1"):
        async with workplace(app) as client:
            csrf = await sign_in(client, app, person)
            status, body = await page(client, "/staff/")
            assert 'id="nav-announcements"' not in body
            for path in ("/staff/announcements", "/staff/announcements/new", "/staff/announcements/1",
                         "/staff/announcements/1/cancel", "/staff/announcements/1/signups",
                         "/staff/announcements/1/signups.csv", "/staff/announcements/999"):
                status, body = await page(client, path)
                assert status == 403 and "只有街道管理员" in body and "停水通知" not in body, (person, path)
            posts = [("/staff/announcements/new", {"token": "x", "step": "create", "text": "假公告", "target": "grid:G01",
                                                   "when": "立即"}),
                     ("/staff/announcements/new", {"token": "x", "step": "create", "text": "假公告",
                                                   "target": "community:nanqiao", "when": "立即"}),
                     ("/staff/announcements/1/edit/text", {"value": "改了"}),
                     ("/staff/announcements/1/edit/places", {"value": "50"}),
                     ("/staff/announcements/1/cancel", {})]
            for path, data in posts:
                response = await client.post(path, data={"csrf": csrf, **data})
                assert response.status == 403, (person, path)
    assert await query(app, "SELECT id, text, status, capacity FROM announcements") == before
    assert await read(app, announcement_web.actions_of, 1) != []  # only the admin's own creation
    assert len(await read(app, announcement_web.actions_of, 1)) == 1


async def test_an_announcement_that_does_not_exist_is_404(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        for path in ("/staff/announcements/999", "/staff/announcements/999/cancel",
                     "/staff/announcements/999/signups", "/staff/announcements/999/signups.csv",
                     "/staff/announcements/abc"):
            status, body = await page(client, path)
            assert status == 404 and "没有这条公告" in body, path
        for path in ("/staff/announcements/999/edit/text", "/staff/announcements/999/cancel",
                     "/staff/announcements/1/edit/target"):
            response = await client.post(path, data={"csrf": csrf, "value": "x"})
            assert response.status == 404 and "没有这条公告" in await response.text(), path


async def test_nothing_answers_without_a_session(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await post_new(client, csrf, await form_token(client), places="5", starts="周六上午九点")
    async with workplace(app) as stranger:
        for method, path in [("GET", "/staff/announcements"), ("GET", "/staff/announcements/new"),
                             ("POST", "/staff/announcements/new"), ("GET", "/staff/announcements/1"),
                             ("POST", "/staff/announcements/1/edit/text"), ("GET", "/staff/announcements/1/cancel"),
                             ("POST", "/staff/announcements/1/cancel"), ("GET", "/staff/announcements/1/signups"),
                             ("GET", "/staff/announcements/1/signups.csv")]:
            response = await stranger.request(method, path, data={"value": "x"} if method == "POST" else None)
            body = await response.text()
            assert response.status == 401 and "请先登录" in body and "停水通知" not in body, (method, path)
    made = await read(app, store.get, 1)
    assert made is not None and made.status == "active" and made.text == "停水通知"
