"""The fake WeChat/WeCom server behaves like the platform: tokens, errcodes, recording, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.wechat_api import (
    CUSTOM_SEND,
    MENU_CREATE,
    ROBOT_SEND,
    TEMPLATE_SEND,
    FakeWeChatAPI,
)

OPENID = "o_resident_1"
KEY = "robot-key-1"


class ManualTime:
    """A time source for the fake that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def now() -> ManualTime:
    return ManualTime()


@pytest.fixture
async def fake(now: ManualTime) -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI(clock=now) as api:
        api.add_robot_key(KEY)
        yield api


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str, **params: str) -> dict[str, Any]:
    async with http.get(url, params=params) as response:
        assert response.status == 200
        return await response.json()


async def post(http: aiohttp.ClientSession, url: str, body: object, **params: str) -> dict[str, Any]:
    async with http.post(url, params=params, json=body) as response:
        assert response.status == 200
        return await response.json()


async def token(fake: FakeWeChatAPI, http: aiohttp.ClientSession) -> str:
    answer = await get(http, f"{fake.url}/cgi-bin/token", grant_type="client_credential",
                       appid=fake.app_id, secret=fake.app_secret)
    return answer["access_token"]


def text(openid: str, content: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def robot_text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


async def test_tokens_are_unique_counted_and_checked(
    fake: FakeWeChatAPI, http: aiohttp.ClientSession
) -> None:
    answer = await get(http, f"{fake.url}/cgi-bin/token", grant_type="client_credential",
                       appid=fake.app_id, secret=fake.app_secret)
    assert answer["expires_in"] == 7200
    second = await token(fake, http)
    assert answer["access_token"] != second and fake.tokens_issued == 2
    wrong_app = await get(http, f"{fake.url}/cgi-bin/token", grant_type="client_credential",
                          appid="wx9999999999999999", secret=fake.app_secret)
    wrong_secret = await get(http, f"{fake.url}/cgi-bin/token", grant_type="client_credential",
                             appid=fake.app_id, secret="nope")
    assert (wrong_app["errcode"], wrong_secret["errcode"]) == (40013, 40125)
    assert "access_token" not in wrong_app and fake.tokens_issued == 2

    unknown = await post(http, f"{fake.url}{CUSTOM_SEND}", text(OPENID, "hi"), access_token="forged")
    assert unknown["errcode"] == 40001 and "invalid credential" in unknown["errmsg"]
    assert fake.pushes(OPENID) == []


async def test_tokens_expire_by_lifetime_and_on_demand(
    fake: FakeWeChatAPI, http: aiohttp.ClientSession, now: ManualTime
) -> None:
    fake.token_lifetime = 60
    first = await token(fake, http)
    url = f"{fake.url}{CUSTOM_SEND}"
    assert (await post(http, url, text(OPENID, "1"), access_token=first))["errcode"] == 0
    now.now += 60
    expired = await post(http, url, text(OPENID, "2"), access_token=first)
    assert expired == {"errcode": 42001, "errmsg": "access_token expired"}

    fake.token_lifetime = 7200
    second = await token(fake, http)
    assert (await post(http, url, text(OPENID, "3"), access_token=second))["errcode"] == 0
    fake.expire_tokens()
    assert (await post(http, url, text(OPENID, "4"), access_token=second))["errcode"] == 42001
    assert [p["text"]["content"] for p in fake.pushes(OPENID)] == ["1", "3"]


async def test_calls_are_recorded_per_endpoint(fake: FakeWeChatAPI, http: aiohttp.ClientSession) -> None:
    access = await token(fake, http)
    assert await post(http, f"{fake.url}{CUSTOM_SEND}", text(OPENID, "你好"), access_token=access) == {
        "errcode": 0, "errmsg": "ok"}
    await post(http, f"{fake.url}{CUSTOM_SEND}", text("o_other", "not yours"), access_token=access)
    template = {"touser": OPENID, "template_id": "TPL1", "data": {"thing1": {"value": "水管"}}}
    first = await post(http, f"{fake.url}{TEMPLATE_SEND}", template, access_token=access)
    second = await post(http, f"{fake.url}{TEMPLATE_SEND}", template, access_token=access)
    assert first["errcode"] == 0 and second["msgid"] > first["msgid"]
    menu = {"button": [{"type": "click", "name": "报事", "key": "report"}]}
    assert (await post(http, f"{fake.url}{MENU_CREATE}", menu, access_token=access))["errcode"] == 0
    assert fake.menu == menu
    assert (await get(http, f"{fake.url}/cgi-bin/menu/get", access_token=access))["menu"] == menu
    assert (await post(http, f"{fake.url}{ROBOT_SEND}", robot_text("群通知"), key=KEY))["errcode"] == 0

    assert fake.pushes(OPENID) == [text(OPENID, "你好")]
    assert fake.templates(OPENID) == [template, template]
    assert fake.robot_messages(KEY) == [robot_text("群通知")]
    robot_call = fake.calls[-1]
    assert (robot_call.path, robot_call.token, robot_call.query) == (ROBOT_SEND, KEY, {"key": KEY})
    assert fake.calls[0].token == access and fake.calls[0].query == {"access_token": access}


async def test_invalid_requests_are_refused_like_the_platform(
    fake: FakeWeChatAPI, http: aiohttp.ClientSession
) -> None:
    access = await token(fake, http)
    url = f"{fake.url}{CUSTOM_SEND}"
    assert (await post(http, url, {"touser": OPENID, "msgtype": "fax"}, access_token=access))["errcode"] == 40008
    async with http.post(url, params={"access_token": access}, data=b"{not json") as response:
        assert (await response.json())["errcode"] == 47001
    assert (await post(http, f"{fake.url}/cgi-bin/no/such", {}, access_token=access))["errcode"] == 48001
    assert (await post(http, f"{fake.url}{ROBOT_SEND}", robot_text("x"), key="stolen"))["errcode"] == 93000
    too_long = robot_text("丰" * 683)  # 2049 bytes
    answer = await post(http, f"{fake.url}{ROBOT_SEND}", too_long, key=KEY)
    assert answer["errcode"] == 40058 and "2048" in answer["errmsg"]
    assert fake.calls == [] and fake.robot_messages(KEY) == []
    assert [a.errcode for a in fake.attempts] == [0, 40008, 47001, 48001, 93000, 40058]


async def test_fault_queue_answers_then_recovers(fake: FakeWeChatAPI, http: aiohttp.ClientSession) -> None:
    access = await token(fake, http)
    url = f"{fake.url}{CUSTOM_SEND}"
    fake.fail_next(CUSTOM_SEND, 45015, times=2)
    fake.fail_next("cgi-bin/message/custom/send", 43004)  # queued after the first fault
    answers = [await post(http, url, text(OPENID, str(n)), access_token=access) for n in range(4)]
    assert [a["errcode"] for a in answers] == [45015, 45015, 43004, 0]
    assert answers[0]["errmsg"].startswith("response out of time limit")
    assert answers[2]["errmsg"] == "require subscribe"
    assert [p["text"]["content"] for p in fake.pushes(OPENID)] == ["3"]
    assert [a.errcode for a in fake.attempts if a.call.path == CUSTOM_SEND] == [45015, 45015, 43004, 0]

    fake.fail_always(TEMPLATE_SEND, -1, "system busy")
    template = {"touser": OPENID, "template_id": "TPL1"}
    for _ in range(3):
        answer = await post(http, f"{fake.url}{TEMPLATE_SEND}", template, access_token=access)
        assert answer == {"errcode": -1, "errmsg": "system busy"}
    fake.clear_faults()
    assert (await post(http, f"{fake.url}{TEMPLATE_SEND}", template, access_token=access))["errcode"] == 0
    assert fake.templates(OPENID) == [template]


async def test_http_error_and_delay(fake: FakeWeChatAPI, http: aiohttp.ClientSession) -> None:
    fake.http_error_next(ROBOT_SEND, 502)
    async with http.post(f"{fake.url}{ROBOT_SEND}", params={"key": KEY}, json=robot_text("a")) as response:
        assert response.status == 502
    assert fake.robot_messages(KEY) == [] and fake.attempts[-1].http_status == 502

    fake.delay_next(ROBOT_SEND, 2.0)
    with pytest.raises(TimeoutError):
        async with http.post(f"{fake.url}{ROBOT_SEND}", params={"key": KEY}, json=robot_text("b"),
                             timeout=aiohttp.ClientTimeout(sock_read=0.2)):
            pass
    # The delay holds back the answer, not the effect: the message was posted.
    assert fake.robot_messages(KEY) == [robot_text("b")]
    assert (await post(http, f"{fake.url}{ROBOT_SEND}", robot_text("c"), key=KEY))["errcode"] == 0


async def test_robot_rate_limit_is_a_rolling_minute(
    now: ManualTime, http: aiohttp.ClientSession
) -> None:
    async with FakeWeChatAPI(clock=now, robot_per_minute=3) as fake:
        fake.add_robot_key(KEY)
        fake.add_robot_key("other-key")
        url = f"{fake.url}{ROBOT_SEND}"
        codes = []
        for n in range(4):
            codes.append((await post(http, url, robot_text(str(n)), key=KEY))["errcode"])
            now.now += 10
        assert codes == [0, 0, 0, 45009]
        assert (await post(http, url, robot_text("x"), key="other-key"))["errcode"] == 0  # per key
        now.now += 19.9  # 59.9 s after the first message: still inside its minute
        assert (await post(http, url, robot_text("4"), key=KEY))["errmsg"] == "api freq out of limit"
        now.now += 0.1
        assert (await post(http, url, robot_text("5"), key=KEY))["errcode"] == 0
        assert [m["text"]["content"] for m in fake.robot_messages(KEY)] == ["0", "1", "2", "5"]


async def test_wait_for_wakes_on_a_call_and_times_out_helpfully(
    fake: FakeWeChatAPI, http: aiohttp.ClientSession
) -> None:
    waiter = asyncio.create_task(fake.wait_for(lambda c: c.path == ROBOT_SEND))
    await asyncio.sleep(0)
    assert not waiter.done()
    await post(http, f"{fake.url}{ROBOT_SEND}", robot_text("到了"), key=KEY)
    call = await asyncio.wait_for(waiter, 2)
    assert call.body == robot_text("到了")

    await post(http, f"{fake.url}{ROBOT_SEND}", robot_text("refused"), key="wrong")
    with pytest.raises(AssertionError, match=r"no matching call within 0.2s[\s\S]*93000"):
        await fake.wait_for(lambda c: c.body == robot_text("refused"), timeout=0.2)


async def test_temporary_media_get_upload_and_the_messages_that_name_it(
    fake: FakeWeChatAPI, http: aiohttp.ClientSession
) -> None:
    """Issue 13: media/get serves a follower's file (an unknown or expired id is a JSON 40007),
    media/upload takes multipart within the 临时素材 limits, and an image or voice 客服消息
    must name a media_id WeChat knows."""
    access = await token(fake, http)
    fake.add_media("VOICE-1", b"#!AMR\nvoice", "audio/amr")
    async with http.get(f"{fake.url}/cgi-bin/media/get", params={"access_token": access, "media_id": "VOICE-1"}) as got:
        assert got.headers["Content-Type"] == "audio/amr" and await got.read() == b"#!AMR\nvoice"
    assert (await get(http, f"{fake.url}/cgi-bin/media/get", access_token=access, media_id="NOPE"))["errcode"] == 40007

    async def upload(media_type: str, data: bytes, content_type: str) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("media", data, filename="f", content_type=content_type)
        async with http.post(f"{fake.url}/cgi-bin/media/upload", params={"access_token": access, "type": media_type},
                             data=form) as response:
            return await response.json()

    uploaded = await upload("image", b"\xff\xd8 jpeg", "image/jpeg")
    assert uploaded["type"] == "image" and uploaded["media_id"] in fake.media
    assert (await upload("voice", b"OggS", "audio/ogg"))["errcode"] == 40004  # AMR and MP3 only
    assert (await upload("voice", b"x" * (2 * 1024 * 1024 + 1), "audio/amr"))["errcode"] == 40006
    assert (await upload("film", b"x", "video/mp4"))["errcode"] == 40004
    image = {"touser": OPENID, "msgtype": "image", "image": {"media_id": uploaded["media_id"]}}
    assert (await post(http, f"{fake.url}{CUSTOM_SEND}", image, access_token=access))["errcode"] == 0
    fake.expire_media(uploaded["media_id"])  # three days later
    assert (await post(http, f"{fake.url}{CUSTOM_SEND}", image, access_token=access))["errcode"] == 40007
    pic = fake.pic_url("p.jpg", b"\xff\xd8 pic")
    async with http.get(pic) as response:
        assert await response.read() == b"\xff\xd8 pic"
