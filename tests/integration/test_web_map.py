"""Issue 15, the grid map (/staff/map and its data, /staff/map/data) over HTTP: each person sees
only the grids of their scope and the pins of tickets they may open (a grid leader: her grid
alone), each grid with its open and overdue counts; the data carries no phone, name or words of
the resident; grids without an outline are listed beside the map; nothing without a session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from bot.config_channels import HttpSettings
from storage.accounts import ensure_account
from storage.clock import FakeClock
from storage.tickets import NewTicket, create_ticket
from tests.web_harness import page, sign_in, workplace

NAME, PHONE, WORDS = "张秀兰", "13812345678", "楼道灯坏了好几天"
# (grid, community, category, location): two G01 tickets (one without a location), one in G02
# (the same community), one in G11 (another community).
TICKETS = [("G01", "longchi", "repair", (32.3110, 118.3265)), ("G01", "longchi", "dispute", None),
           ("G02", "longchi", "repair", (32.3110, 118.3225)), ("G11", "nanqiao", "repair", (32.2980, 118.3125))]


async def seed(app: App) -> None:
    """The tickets above, #1 due for 受理 in 1 hour, the others in 6; the resident gave her name
    and phone, and her phone is in her words too."""
    now = app.clock.now()
    async with app.db.transaction() as conn:
        resident = await ensure_account(conn, "telegram", "1001", "1001", NAME, now)
        for n, (grid, community, category, where) in enumerate(TICKETS):
            await create_ticket(conn, NewTicket(
                resident_id=resident.resident_id, category_id=category, description=f"{WORDS}，电话{PHONE}",
                community_id=community, compound="龙池花园", building="3栋", grid_id=grid, phone=PHONE,
                latitude=where[0] if where else None, longitude=where[1] if where else None,
                source_channel="telegram", ack_due_at=now + timedelta(hours=1 if n == 0 else 6),
                resolve_due_at=now + timedelta(days=2)), now)


async def map_of(app: App, person: str) -> tuple[dict, str]:
    async with workplace(app) as client:
        await sign_in(client, app, person)
        answer = await client.get("/staff/map/data")
        assert answer.status == 200 and answer.content_type == "application/json"
        data, raw = await answer.json(), await answer.text()
        status, body = await page(client, "/staff/map")
        assert status == 200
    return data, raw + body


def grids(data: dict) -> dict[str, tuple[int, int, str]]:
    return {g["id"]: (g["open"], g["overdue"], g["state"]) for g in data["grids"]}


async def test_a_leader_sees_only_her_grid_and_its_pins(app: App, clock: FakeClock) -> None:
    await seed(app)
    data, shown = await map_of(app, "g01-leader")
    assert grids(data) == {"G01": (2, 0, "open")}
    assert [p["id"] for p in data["pins"]] == [1] and data["pins"][0]["url"] == "/staff/tickets/1"
    assert data["grids"][0]["boundary"]["type"] == "Polygon"
    assert data["grids"][0]["label"] == "龙池花园第一网格：未办结 2 件，超时 0 件"
    assert "龙池花园第二网格" not in shown and "G02" not in shown and "南桥" not in shown
    assert "1 个网格，未办结 2 件，其中超时 0 件" in shown and 'href="/staff/map"' in shown
    clock.advance(hours=2)  # past #1's 受理 time limit
    data, shown = await map_of(app, "g01-leader")
    assert grids(data) == {"G01": (2, 1, "overdue")}
    assert data["pins"][0]["overdue"] and data["pins"][0]["title"] == "#1 水电维修 · 已提交 · 已超时"  # created here, not routed


async def test_each_role_sees_the_grids_of_its_scope(app: App) -> None:
    await seed(app)
    staff, _ = await map_of(app, "longchi-staff-1")
    assert [g["id"] for g in staff["grids"]] == [f"G{n:02}" for n in range(1, 11)]
    assert grids(staff)["G02"] == (1, 0, "open") and grids(staff)["G03"] == (0, 0, "clear")
    assert sorted(p["id"] for p in staff["pins"]) == [1, 3]
    admin, _ = await map_of(app, "sd-admin-1")
    assert len(admin["grids"]) == 39 and grids(admin)["G11"] == (1, 0, "open")
    assert sorted(p["id"] for p in admin["pins"]) == [1, 3, 4]
    # The red post answers 代充燃气 in 龙池社区: its community's grids, none of these tickets.
    post, _ = await map_of(app, "post-longchi")
    assert [g["id"] for g in post["grids"]] == [f"G{n:02}" for n in range(1, 11)]
    assert post["pins"] == [] and all(g["open"] == 0 for g in post["grids"])


async def test_the_data_holds_no_phone_name_or_words_of_the_resident(app: App) -> None:
    await seed(app)
    _, shown = await map_of(app, "sd-admin-1")
    for secret in (NAME, PHONE, PHONE[-4:], WORDS, "3栋"):
        assert secret not in shown, secret


async def test_nothing_without_a_session(app: App) -> None:
    await seed(app)
    async with workplace(app) as client:
        for path in ("/staff/map", "/staff/map/data", "/staff/static/map-grids.js"):
            status, body = await page(client, path)
            assert status == 401 and "请先登录" in body, path
            assert "龙池花园第一网格" not in body and "boundary" not in body


@pytest.fixture
async def partly_drawn(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    """The sample with G02 left without an outline."""
    grids = [g.model_copy(update={"boundary": None}) if g.id == "G02" else g for g in config.grids]
    built = await build_app(config.model_copy(update={"grids": grids}), clock, tmp_path / "partly.db")
    yield built
    await built.close()


async def test_grids_without_an_outline_are_listed_beside_the_map(partly_drawn: App) -> None:
    await seed(partly_drawn)
    data, shown = await map_of(partly_drawn, "longchi-staff-1")
    g02 = next(g for g in data["grids"] if g["id"] == "G02")
    assert g02["boundary"] is None and g02["open"] == 1
    beside = shown.split('id="unbounded"')[1].split("</table>")[0]
    assert '<tr class="" data-grid="G02"><td>龙池花园第二网格</td><td>1</td><td>0</td></tr>' in beside
    assert "龙池花园第一网格" not in beside  # drawn on the map, not listed
    _, leader = await map_of(partly_drawn, "g01-leader")
    assert 'id="unbounded"' not in leader


async def test_tiles_only_when_configured(app: App) -> None:
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")
        answer = await client.get("/staff/map")
        assert 'data-tiles=""' in await answer.text()
        assert "tile" not in answer.headers["Content-Security-Policy"]
    tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    async with workplace(app, http=HttpSettings(host="127.0.0.1", port=0, map_tiles=tiles)) as client:
        await sign_in(client, app, "g01-leader")
        answer = await client.get("/staff/map")
        assert f'data-tiles="{tiles}"' in await answer.text()
        assert "img-src 'self' data: https://*.tile.example.org;" in answer.headers["Content-Security-Policy"]
