"""人员 over HTTP (issue 15): the roster in each reader's scope with phones masked but for admins,
who is bound where and since when; invites (code, deep link, a QR code that decodes to the link)
and revoking a binding with a confirmation — admins only, checked on the server: a leader trying
it, another person's binding, a replayed POST, a missing CSRF token."""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import replace

import zxingcpp

from bot.app import App
from bot.bootstrap import staff_seeds
from storage import web_sessions
from storage.accounts import sync_people
from storage.clock import FakeClock
from storage.roster import events_of
from tests.chat import ChatUser, account, bind, query
from tests.web_harness import page, sign_in, workplace

DEEP_LINK = re.compile(r'id="deep-link">(https://t\.me/weifengshan_bot\?start=bind-[A-Z0-9]{8})<')
CODE = re.compile(r'id="invite-code">([A-Z0-9]{8})<')


def roster_names(body: str) -> set[str]:
    return set(re.findall(r'<td class="name">([^<]+)</td>', body))


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and 8-bit grey pixels of a PNG as segno writes it (1-bit greyscale or
    palette, unfiltered scanlines): enough to hand the image to a QR decoder."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    at, idat, header = 8, b"", b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunk = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 1 and colour in (0, 3), (depth, colour)
    raw, stride, pixels = zlib.decompress(idat), (width + 7) // 8, bytearray()
    previous = bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # PNG's filters with one byte per pixel unit
            left, up, corner = line[i - 1] if i else 0, previous[i], previous[i - 1] if i else 0
            guess = {0: 0, 1: left, 2: up, 3: (left + up) // 2, 4: _paeth(left, up, corner)}[kind]
            line[i] = (line[i] + guess) & 0xFF
        previous = bytes(line)
        pixels += bytes(255 if line[x // 8] >> (7 - x % 8) & 1 else 0 for x in range(width))
    return width, height, bytes(pixels)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def decode_qr(png: bytes) -> list[str]:
    width, height, grey = png_pixels(png)
    return [found.text for found in zxingcpp.read_barcodes(memoryview(grey).cast("B", (height, width)))]


async def test_people_pages_need_a_session(app: App) -> None:
    async with workplace(app) as client:
        for method, path in (("GET", "/staff/people"), ("POST", "/staff/people/g01-leader/invite"),
                             ("POST", "/staff/people/g01-leader/unbind"), ("GET", "/staff/people/invites/ABCDEFGH.png"),
                             ("GET", "/staff/people/import"), ("POST", "/staff/people/import"),
                             ("POST", "/staff/people/import/1/confirm")):
            response = await client.request(method, path, allow_redirects=False)
            assert response.status == 401, (method, path)
            assert "万秀英" not in await response.text()


async def test_the_roster_is_the_readers_scope(app: App) -> None:
    await bind(app, ChatUser(app, "leader-g01"), "g01-leader")
    expected = {"g01-leader": ({"万秀英", "夏敏", "于红梅"}, {"顾敏", "胡长青", "秦艳", "许文博"}),
                "longchi-staff-1": ({"万秀英", "顾敏", "胡长青"}, {"秦艳", "许文博"}),
                "sd-admin-1": ({"万秀英", "顾敏", "胡长青", "秦艳", "许文博"}, set())}
    for person, (shown, hidden) in expected.items():
        async with workplace(app) as client:
            await sign_in(client, app, person)
            status, body = await page(client, "/staff/people")
            assert status == 200
            names = roster_names(body)
            assert shown <= names and not hidden & names, (person, names)
            row = body[body.index('id="person-g01-leader"'):].split("</tr>")[0]
            assert "控制台（" in row and "起）" in row  # bound on the console, and since when
            full = person == "sd-admin-1"
            assert ("13905500110" in row) is full and ("139****0110" in row) is not full
            assert ('class="invite"' in body) is full and ('class="unbind"' in body) is full


async def test_filters_only_narrow_the_scope(app: App) -> None:
    async with workplace(app) as client:
        await sign_in(client, app, "sd-admin-1")
        names = roster_names((await page(client, "/staff/people?grid=G01"))[1])
        assert {"万秀英", "夏敏", "于红梅"} <= names and not {"顾敏", "胡长青", "许文博"} & names
        assert roster_names((await page(client, "/staff/people?community=nanqiao"))[1]) >= {"秦艳"}
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")  # another community's filter shows nothing more
        status, body = await page(client, "/staff/people?community=nanqiao&grid=G11")
        assert status == 200 and roster_names(body) == set() and 'id="people-filters"' not in body


async def test_an_admin_issues_an_invite_with_a_qr_code_of_its_link(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        response = await client.post("/staff/people/g01-w1/invite", data={"csrf": csrf})
        body = await response.text()
        assert response.status == 200 and "于红梅" in body
        code = CODE.search(body).group(1)  # type: ignore[union-attr]
        link = DEEP_LINK.search(body).group(1)  # type: ignore[union-attr]
        assert link.endswith(f"bind-{code}") and f"绑定 {code}" in body and f"/bind {code}" in body
        png = await client.get(f"/staff/people/invites/{code}.png")
        assert png.status == 200 and png.headers["Content-Type"] == "image/png"
        assert png.headers["Cache-Control"] == "no-store"
        assert decode_qr(await png.read()) == [link]
        svg = await client.get(f"/staff/people/invites/{code}.svg")
        assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
        assert (await svg.text()).lstrip().startswith("<?xml") and "于红梅" not in await svg.text()
        assert (await client.get("/staff/people/invites/ZZZZZZZZ.png")).status == 404
        worker = ChatUser(app, "worker-g01")
        await worker.say(f"/bind {code}")
        assert "绑定成功" in worker.text
        assert (await client.get(f"/staff/people/invites/{code}.png")).status == 404  # used: no QR any more
    async with app.db.read() as conn:
        assert [e[2] for e in await events_of(conn, "g01-w1")] == ["invite"]


async def test_only_admins_invite_or_unbind(app: App) -> None:
    await bind(app, ChatUser(app, "leader-g01"), "g01-leader")
    for person in ("g01-leader", "longchi-staff-1"):
        async with workplace(app) as client:
            csrf = await sign_in(client, app, person)
            invite = await client.post("/staff/people/g01-w1/invite", data={"csrf": csrf})
            assert invite.status == 403 and "仅限街道管理员" in await invite.text()
            unbind = await client.post("/staff/people/g01-leader/unbind",
                                       data={"csrf": csrf, "channel": "console", "account": "leader-g01", "confirm": "1"})
            assert unbind.status == 403
            assert (await client.get("/staff/people/import")).status == 403
    assert await query(app, "SELECT COUNT(*) FROM invites WHERE person_id = 'g01-w1'") == [(0,)]
    assert (await account(app, "console", "leader-g01")).person_id == "g01-leader"  # type: ignore[union-attr]


async def test_revoking_a_binding_asks_first_then_tells_the_person_and_ends_their_sessions(app: App) -> None:
    leader = ChatUser(app, "leader-g01")
    await bind(app, leader, "g01-leader")
    async with workplace(app) as leaders_browser, workplace(app) as client:
        await sign_in(leaders_browser, app, "g01-leader")
        csrf = await sign_in(client, app, "sd-admin-1")
        form = {"csrf": csrf, "channel": "console", "account": "leader-g01"}
        ask = await client.post("/staff/people/g01-leader/unbind", data=form)
        assert ask.status == 200 and 'id="confirm-unbind"' in await ask.text()
        assert (await account(app, "console", "leader-g01")).person_id == "g01-leader"  # type: ignore[union-attr]
        done = await client.post("/staff/people/g01-leader/unbind", data={**form, "confirm": "1"})
        assert done.status == 200 and "已解除万秀英的控制台绑定" in await done.text()
        assert (await account(app, "console", "leader-g01")).person_id is None  # type: ignore[union-attr]
        assert (await page(leaders_browser, "/staff/"))[0] == 401
        told = [r.text for r in await leader.inbox()]
        assert len(told) == 1 and "解除绑定" in told[0]
        again = await client.post("/staff/people/g01-leader/unbind", data={**form, "confirm": "1"})
        assert again.status == 409 and "没有做任何更改" in await again.text()
        assert len(await leader.inbox()) == 1  # a replay tells no one again
        roster = (await page(client, "/staff/people"))[1]
        assert "未绑定" in roster.split('id="person-g01-leader"')[1].split("</tr>")[0]
    async with app.db.read() as conn:
        assert await web_sessions.sessions_of(conn, "g01-leader") == 0
        assert [(e[1], e[2], e[3]) for e in await events_of(conn, "g01-leader")] == [("sd-admin-1", "unbind", "console")]


async def test_another_persons_binding_or_id_changes_nothing(app: App) -> None:
    await bind(app, ChatUser(app, "leader-g01"), "g01-leader")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        # g02-leader's id with g01-leader's account: that binding is not theirs.
        wrong = await client.post("/staff/people/g02-leader/unbind",
                                  data={"csrf": csrf, "channel": "console", "account": "leader-g01", "confirm": "1"})
        assert wrong.status == 409
        for missing in ("nobody", "g01-leader%27--"):
            assert (await client.post(f"/staff/people/{missing}/invite", data={"csrf": csrf})).status == 404
    assert (await account(app, "console", "leader-g01")).person_id == "g01-leader"  # type: ignore[union-attr]


async def test_people_posts_without_the_csrf_token_change_nothing(app: App) -> None:
    await bind(app, ChatUser(app, "leader-g01"), "g01-leader")
    async with workplace(app) as client:
        await sign_in(client, app, "sd-admin-1")
        for data in ({}, {"csrf": "forged"}):
            invite = await client.post("/staff/people/g01-w1/invite", data=data)
            unbind = await client.post("/staff/people/g01-leader/unbind",
                                       data={**data, "channel": "console", "account": "leader-g01", "confirm": "1"})
            assert invite.status == 403 and unbind.status == 403
    assert await query(app, "SELECT COUNT(*) FROM invites WHERE person_id = 'g01-w1'") == [(0,)]
    assert (await account(app, "console", "leader-g01")).person_id == "g01-leader"  # type: ignore[union-attr]


async def test_a_binding_from_the_config_is_shown_but_not_revoked_here(app: App, clock: FakeClock) -> None:
    seeds = [replace(s, telegram_id=7001) if s.id == "g01-w2" else s for s in staff_seeds(app.config)]
    async with app.db.transaction() as conn:
        await sync_people(conn, seeds, app.clock.now())
    clock.advance(days=3)
    async with app.db.transaction() as conn:  # a restart: the binding keeps its date
        await sync_people(conn, seeds, app.clock.now())
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        row = (await page(client, "/staff/people"))[1].split('id="person-g01-w2"')[1].split("</tr>")[0]
        assert "配置文件绑定" in row and 'class="unbind"' not in row
        assert "Telegram（11-26 10:00 起）" in row, row
        refused = await client.post("/staff/people/g01-w2/unbind",
                                    data={"csrf": csrf, "channel": "telegram", "account": "7001", "confirm": "1"})
        assert refused.status == 409 and "config.yaml" in await refused.text()
    assert (await account(app, "telegram", "7001")).person_id == "g01-w2"  # type: ignore[union-attr]

