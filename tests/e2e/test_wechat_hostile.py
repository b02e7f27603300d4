"""Callbacks that are not genuine or not well-formed are refused quickly and store nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.channels.wechat.security import NonceMemory, Refused, parse_xml, signature_of
from bot.config import Config
from bot.config_channels import WeChatSecurity
from storage.clock import FakeClock
from tests.chat import query
from tests.e2e.test_wechat_e2e import LEADER, report_in_longchi
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import TOKEN, WeChatRun, message_xml, start_wechat

RESIDENT = "oResident0000000000000001"
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
              for i in range(1, 10))
    + ']><xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>'
    '<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>'
    '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>'
)
DEEP = "<xml>" + "<a>" * 5000 + "x" + "</a>" * 5000 + "</xml>"


@pytest.fixture
def fake(wechat_fake: FakeWeChatAPI) -> FakeWeChatAPI:
    return wechat_fake


@pytest.fixture(params=[WeChatSecurity.PLAIN, WeChatSecurity.SAFE])
async def run(request: pytest.FixtureRequest, config: Config, fake: FakeWeChatAPI, clock: FakeClock,
              tmp_path: Path, session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, fake, clock, tmp_path / "wx.db", session, request.param)
    yield started
    await started.close()


async def assert_nothing_stored(run: WeChatRun) -> None:
    assert await query(run.app, "SELECT COUNT(*) FROM inbox") == [(0,)]
    assert await query(run.app, "SELECT COUNT(*) FROM accounts") == [(0,)]
    assert await query(run.app, "SELECT COUNT(*) FROM outbox") == [(0,)]


async def test_url_verification_echoes_only_with_a_good_signature(run: WeChatRun) -> None:
    wx = run.platform
    params = wx.query(wx.timestamp(), "n0nce") | {"echostr": "1234567890"}
    async with wx.session.get(wx.url, params=params) as response:
        assert response.status == 200 and await response.text() == "1234567890"
    async with wx.session.get(wx.url, params=params | {"signature": "0" * 40}) as response:
        assert response.status == 403 and "1234567890" not in await response.text()


async def test_bad_signature_is_refused(run: WeChatRun) -> None:
    wx = run.platform
    body = message_xml(wx.text_fields(RESIDENT, "路灯坏了"))
    answer = await wx.post_raw(body, wx.query(wx.timestamp(), "abc") | {"signature": "f" * 40})
    missing = await wx.post_raw(body, {"timestamp": wx.timestamp(), "nonce": "abc"})
    assert (answer.status, missing.status) == (403, 403)
    await assert_nothing_stored(run)


async def test_stale_timestamp_is_refused_even_when_signed(run: WeChatRun) -> None:
    wx = run.platform
    stale = str(int(run.app.clock.now().timestamp()) - 301)
    answer = await wx.post(wx.text_fields(RESIDENT, "路灯坏了"), timestamp=stale)
    future = await wx.post(wx.text_fields(RESIDENT, "路灯坏了"),
                           timestamp=str(int(run.app.clock.now().timestamp()) + 400))
    assert (answer.status, future.status) == (403, 403)
    await assert_nothing_stored(run)


async def test_wrong_msg_signature_on_encrypted_body_is_refused(run: WeChatRun) -> None:
    if run.platform.security is WeChatSecurity.PLAIN:
        pytest.skip("plain mode has no msg_signature")
    wx = run.platform
    timestamp = wx.timestamp()
    encrypted = wx.crypto.encrypt_message(message_xml(wx.text_fields(RESIDENT, "x")), "nn", timestamp)
    answer = await wx.post_raw(encrypted, wx.query(timestamp, "nn") | {
        "encrypt_type": "aes", "msg_signature": signature_of(TOKEN, timestamp, "nn", "other")})
    assert answer.status == 403
    await assert_nothing_stored(run)


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_body_is_refused(run: WeChatRun, chunked: bool) -> None:
    wx = run.platform
    big = message_xml(wx.text_fields(RESIDENT, "灯" * 30_000)).encode()  # 90 KB > 64 KiB

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start:start + 8192]

    params = wx.query(wx.timestamp(), "n")
    async with wx.session.post(wx.url, params=params, data=stream() if chunked else big) as response:
        assert response.status == 413
    await assert_nothing_stored(run)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, DEEP, "<xml><a>", "not xml at all", "<other/>"],
                         ids=["billion-laughs", "xxe", "deep-nesting", "truncated", "garbage", "wrong-root"])
async def test_hostile_xml_gets_400_fast_and_stores_nothing(run: WeChatRun, body: str) -> None:
    wx = run.platform
    started = time.monotonic()
    answer = await wx.post_raw(body, wx.query(wx.timestamp(), "n"))
    assert answer.status == 400
    assert time.monotonic() - started < 1.0
    assert "root:" not in answer.body  # nothing of /etc/passwd, ever
    await assert_nothing_stored(run)


async def test_hostile_xml_inside_the_encryption_is_refused(run: WeChatRun) -> None:
    if run.platform.security is WeChatSecurity.PLAIN:
        pytest.skip("plain mode has no encryption")
    wx = run.platform
    timestamp = wx.timestamp()
    encrypted = wx.crypto.encrypt_message(XXE, "nn", timestamp)
    outer = parse_xml(encrypted)
    answer = await wx.post_raw(message_xml({"ToUserName": "gh", "Encrypt": outer["Encrypt"]}),
                               wx.query(timestamp, "nn") | {"encrypt_type": "aes",
                                                           "msg_signature": outer["MsgSignature"]})
    assert answer.status == 400
    await assert_nothing_stored(run)


async def test_plaintext_is_refused_when_the_account_is_in_safe_mode(run: WeChatRun) -> None:
    if run.platform.security is not WeChatSecurity.SAFE:
        pytest.skip("only safe mode refuses plaintext")
    wx = run.platform
    answer = await wx.post_raw(message_xml(wx.text_fields(RESIDENT, "x")), wx.query(wx.timestamp(), "n"))
    assert answer.status == 400
    await assert_nothing_stored(run)


async def test_health_endpoint_answers(run: WeChatRun) -> None:
    async with run.platform.session.get(f"http://127.0.0.1:{run.server.port}/healthz") as response:
        assert response.status == 200


async def test_a_captured_query_replayed_with_a_forged_body_is_refused(
    run: WeChatRun, caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy log holds a genuine callback's query string (signature over token, timestamp and
    nonce only). Replayed within 300 s with a forged body that speaks as the grid leader, it is
    refused (403, logged) and changes nothing; WeChat's own retry of that callback — same query,
    same body — is still answered, as a duplicate."""
    wx = run.platform
    await run.bind(LEADER, "g01-leader")
    await report_in_longchi(run)
    genuine = await wx.text(RESIDENT, "你好")
    assert genuine.status == 200 and wx.last is not None
    params, body = wx.last
    inbox_before = await query(run.app, "SELECT COUNT(*) FROM inbox")

    forged = message_xml(wx.text_fields(LEADER, "受理 1"))
    caplog.set_level(logging.WARNING)
    answer = await wx.post_raw(forged, params)
    assert answer.status == 403 and "已受理" not in answer.body
    assert await query(run.app, "SELECT status FROM tickets WHERE id = 1") == [("routed",)]
    assert await query(run.app, "SELECT COUNT(*) FROM inbox") == inbox_before
    assert any("nonce" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)

    retry = await wx.post_raw(body, params)
    assert (retry.status, retry.text) == (200, genuine.text)
    assert await query(run.app, "SELECT COUNT(*) FROM inbox") == inbox_before


async def test_plain_mode_warns_once_at_start(run: WeChatRun, caplog: pytest.LogCaptureFixture) -> None:
    started = [r for r in caplog.get_records("setup") if r.levelno == logging.WARNING
               and "plain" in r.getMessage()]
    assert len(started) == (1 if run.platform.security is WeChatSecurity.PLAIN else 0)


async def test_compatible_mode_requires_the_encrypted_part(
    config: Config, fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """In compatible mode WeChat sends every message with encrypt_type=aes and msg_signature; a
    plaintext callback signed over token, timestamp and nonce alone is refused."""
    compat = await start_wechat(config, fake, clock, tmp_path / "compat.db", session, WeChatSecurity.COMPATIBLE)
    try:
        wx = compat.platform
        answer = await wx.post_raw(message_xml(wx.text_fields(RESIDENT, "受理 1")), wx.query(wx.timestamp(), "n"))
        assert answer.status == 400
        await assert_nothing_stored(compat)
        assert "问题类别" in (await wx.click(RESIDENT, "i:report")).text  # encrypted ones are taken
    finally:
        await compat.close()


def test_the_nonce_memory_is_bounded_by_the_window_and_a_cap() -> None:
    memory = NonceMemory(limit=3)
    memory.check("1000", "a", b"<xml>1</xml>", now=1000)
    memory.check("1000", "a", b"<xml>1</xml>", now=1001)  # WeChat's retry: same body
    with pytest.raises(Refused) as refused:
        memory.check("1000", "a", b"<xml>forged</xml>", now=1002)
    assert refused.value.status == 403
    memory.check("1001", "a", b"<xml>2</xml>", now=1002)  # another timestamp is another callback
    assert len(memory) == 2
    memory.check("1400", "b", b"<xml>3</xml>", now=1302)  # 1000 and 1001 can no longer pass check_fresh
    assert len(memory) == 1
    for nonce in "cdefg":
        memory.check("1400", nonce, b"<xml>4</xml>", now=1303)
    assert len(memory) == 3
