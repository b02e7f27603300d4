"""One source of truth: the board's query scope (handlers/staff_scope.scope_of, run as SQL by
storage/staff_board.py) shows exactly the tickets handlers.domain.actors.may_act lets a person
act on, for every person of the config and tickets in several grids, communities and categories."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from handlers.domain.actors import may_act
from handlers.staff_scope import scope_of
from storage.accounts import ensure_account, get_person
from storage.staff_board import BoardFilter, board_tickets
from storage.tickets import NewTicket, create_ticket, get_ticket

# (grid, community, category): two grids of one community, another community, and the gas
# category that the red posts (responders) answer in their own community.
PLACES = [("G01", "longchi", "repair"), ("G02", "longchi", "gas"), ("G11", "nanqiao", "gas"),
          ("G11", "nanqiao", "sanitation"), ("G04", "longchi", "dispute")]


async def test_the_board_scope_is_may_act(app: App) -> None:
    config, model = app.config, app.services.config
    now = app.clock.now()
    async with app.db.transaction() as conn:
        resident = await ensure_account(conn, "console", "resident-1", "resident-1", "居民", now)
        ids = []
        for grid, community, category in PLACES:
            ids.append(await create_ticket(conn, NewTicket(
                resident_id=resident.resident_id, category_id=category, description="x", community_id=community, compound="c",
                building="b", grid_id=grid, phone="", latitude=None, longitude=None, source_channel="console",
                ack_due_at=now + timedelta(hours=2), resolve_due_at=now + timedelta(days=2)), now))
    async with app.db.read() as conn:
        made = [await get_ticket(conn, n) for n in ids]
        checked = 0
        for person_config, _, _, _ in config.all_people():
            person = await get_person(conn, person_config.id)
            assert person is not None
            shown = {t.id for t in await board_tickets(conn, scope_of(model, person), BoardFilter(), now)}
            allowed = {t.id for t in made if t is not None and may_act(model, person, t)}
            assert shown == allowed, person.id
            checked += bool(allowed)
    assert checked > 10  # not vacuous: many people see some of them
