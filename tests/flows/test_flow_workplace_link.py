"""「工作台」 or /web in chat: a bound staff member gets a one-time sign-in link to the workplace
(for them only, 10 minutes, used once); a resident gets a polite refusal and no link exists.
The token never reaches a log line."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from bot.config_channels import HttpSettings
from storage import web_sessions
from storage.clock import FakeClock
from storage.web_sessions import LinkState
from tests.chat import ChatUser, bind, query


def token_of(link: str) -> str:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8080", "/staff/login"), link
    return parse_qs(parts.query)["token"][0]


async def redeem(app: App, token: str) -> web_sessions.Redeemed:
    async with app.db.transaction() as conn:
        return await web_sessions.redeem_link(conn, token, app.clock.now())


@pytest.mark.parametrize("typed", ["工作台", "/web"])
async def test_staff_get_a_one_time_link_for_themselves(app: App, leader: ChatUser, typed: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await bind(app, leader, "g01-leader")
    await leader.say(typed)
    reply = leader.last
    assert "登录链接" in reply.text and "10 分钟内有效" in reply.text
    # http://127.0.0.1:8080 (no http.public_url): in the text, since Telegram takes no button to it.
    link = reply.text.splitlines()[-1]
    assert reply.link == "" and reply.text.count(link) == 1
    token = token_of(link)
    assert caplog.records and all(token not in record.getMessage() for record in caplog.records)
    first = await redeem(app, token)
    assert first == web_sessions.Redeemed(LinkState.OK, "g01-leader")
    assert (await redeem(app, token)).state is LinkState.USED


async def test_a_link_expires_after_ten_minutes(app: App, leader: ChatUser, clock: FakeClock) -> None:
    await bind(app, leader, "g01-leader")
    await leader.say("工作台")
    clock.advance(minutes=10)
    assert (await redeem(app, token_of(leader.last.text.splitlines()[-1]))).state is LinkState.EXPIRED


async def test_with_an_https_public_url_the_link_is_a_button(config: Config, clock: FakeClock,
                                                             tmp_path: Path) -> None:
    http = HttpSettings(public_url="https://fengshan.example.cn/")
    app = await build_app(config.model_copy(update={"http": http}), clock, tmp_path / "https.db")
    try:
        leader = ChatUser(app, "leader-g01")
        await bind(app, leader, "g01-leader")
        await leader.say("工作台")
        reply = leader.last
        assert reply.link.startswith("https://fengshan.example.cn/staff/login?token=")
        assert reply.link_label == "打开工作台" and "https://" not in reply.text
        token = parse_qs(urlsplit(reply.link).query)["token"][0]
        assert (await redeem(app, token)).state is LinkState.OK
    finally:
        await app.close()


async def test_residents_are_refused_politely(app: App, resident: ChatUser) -> None:
    await resident.say("工作台")
    assert "仅供网格员和社区工作人员使用" in resident.text and resident.last.link == ""
    await resident.say("/web")
    assert "仅供网格员和社区工作人员使用" in resident.text
    assert await query(app, "SELECT count(*) FROM web_links") == [(0,)]
