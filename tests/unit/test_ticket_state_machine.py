"""The ticket state machine (handlers/domain/tickets.py) and its one write (storage/ticket_changes.py).

The transition table is written out here by hand — who may make each move, from which states,
and the state after — and compared with what the pure functions return for every state × every
actor. The storage half is checked through storage's read functions on a real SQLite file.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config
from handlers.domain import tickets as moves
from handlers.domain.actors import Actor
from handlers.domain.model import Config as Model
from handlers.domain.tickets import Deadlines, Handover, Level, Refusal, Transition
from storage import accounts, tickets
from storage.accounts import PersonRow
from storage.clock import FakeClock, stamp
from storage.db import Database
from storage.deadlines import Deadline
from storage.ticket_changes import NewEvent, TicketChange, apply_transition, file_ticket
from storage.tickets import EventAction, NewTicket, Rating, Ticket
from storage.tickets import TicketStatus as S

NOW = datetime(2026, 11, 26, 2, tzinfo=UTC)
DUE = Deadlines(NOW + timedelta(hours=2), NOW + timedelta(hours=24))
UP = Handover(Level.GUIDE, ("g01-guide",))


def staff(person_id: str, role: str, grid: str | None = None, community: str | None = None) -> Actor:
    return Actor.staff(PersonRow(person_id, "某某", "", role, grid, community))


ACTORS = {
    "leader G01": staff("g01-leader", "leader", "G01", "longchi"),
    "guide G01": staff("g01-guide", "guide", "G01", "longchi"),
    "worker G01": staff("g01-worker", "worker", "G01", "longchi"),
    "staff longchi": staff("lc-staff", "staff", None, "longchi"),
    "admin": staff("sd-admin-1", "admin"),
    "responder longchi": staff("post-longchi", "responder"),  # 代充燃气 in longchi (config.yaml)
    "leader G02": staff("g02-leader", "leader", "G02", "longchi"),
    "staff nanqiao": staff("nq-staff", "staff", None, "nanqiao"),
    "responder nanqiao": staff("post-nanqiao", "responder"),
    "reporter": Actor.resident(7),
    "neighbour": Actor.resident(8),
    "system": Actor.system("deadline"),
}
INSIDERS = {"leader G01", "guide G01", "worker G01", "staff longchi", "admin", "responder longchi"}
OPEN = {S.NEW, S.ROUTED, S.ACKNOWLEDGED, S.REOPENED}
ACK = {S.NEW, S.ROUTED, S.REOPENED}
# move → (who may make it, the states it may be made from, the state after; None: unchanged)
TABLE: dict[str, tuple[set[str], set[S], S | None]] = {
    "route": ({"system"}, {S.NEW}, S.ROUTED),
    "acknowledge": (INSIDERS, ACK, S.ACKNOWLEDGED),
    "resolve": (INSIDERS, ACK | {S.ACKNOWLEDGED}, S.RESOLVED),
    "reassign": (INSIDERS, OPEN, S.ROUTED),
    "escalate ack": ({"system"}, ACK, None),
    "escalate resolve": ({"system"}, {S.ACKNOWLEDGED}, None),
    "cancel": ({"reporter"}, OPEN, S.CANCELLED),
    "rate satisfied": ({"reporter"}, {S.RESOLVED}, S.CLOSED),
    "rate mostly": ({"reporter"}, {S.RESOLVED}, S.CLOSED),
    "rate unsatisfied": ({"reporter"}, {S.RESOLVED}, S.REOPENED),
    "reopen": ({"system"}, {S.RESOLVED}, S.REOPENED),
}


@pytest.fixture(scope="module")
def model(sample_config: Config) -> Model:
    return sample_config.model()


def ticket(status: S, *, level: int = 0, ticket_id: int = 5, resident_id: int = 7) -> Ticket:
    return Ticket(ticket_id, resident_id, "gas", "燃气卡充值", "longchi", "龙池花园", "3栋", "G01", "", None, None,
                  status, level, None, "", NOW - timedelta(hours=1), NOW + timedelta(hours=1),
                  NOW + timedelta(hours=23))


def make(model: Model, name: str) -> Callable[[Ticket, Actor], Transition | Refusal]:
    g02 = model.grid("G02")
    assert g02 is not None
    return {
        "route": lambda t, a: moves.route(t, a, Handover(Level.GRID, ("g01-leader",))),
        "acknowledge": lambda t, a: moves.acknowledge(t, a, model),
        "resolve": lambda t, a: moves.resolve(t, a, model, "已更换灯泡", 0),
        "reassign": lambda t, a: moves.reassign(t, a, model, g02, "不归本网格", DUE),
        "escalate ack": lambda t, a: moves.escalate(t, a, Deadline.ACK, Level.GRID, UP, NOW, DUE),
        "escalate resolve": lambda t, a: moves.escalate(t, a, Deadline.RESOLVE, Level.GRID, UP, NOW, DUE),
        "cancel": moves.cancel,
        "rate satisfied": lambda t, a: moves.rate(t, a, Rating.SATISFIED),
        "rate mostly": lambda t, a: moves.rate(t, a, Rating.MOSTLY),
        "rate unsatisfied": lambda t, a: moves.rate(t, a, Rating.UNSATISFIED, (UP, DUE)),
        "reopen": lambda t, a: moves.reopen(t, a, Rating.UNSATISFIED, UP, DUE),
    }[name]


@pytest.mark.parametrize("name", TABLE)
def test_each_move_from_each_state_by_each_actor(model: Model, name: str) -> None:
    who, states, after = TABLE[name]
    move = make(model, name)
    actual, expected = {}, {}
    for status in S:
        for actor_name, actor in ACTORS.items():
            result = move(ticket(status), actor)
            actual[status.value, actor_name] = result if isinstance(result, Refusal) else result.status
            expected[status.value, actor_name] = (
                Refusal.NOT_ALLOWED if actor_name not in who
                else Refusal.WRONG_STATE if status not in states else after or status)
    assert actual == expected


def test_a_resident_files_only_for_herself() -> None:
    new = NewTicket(7, "repair", "楼道灯坏了", "longchi", "龙池花园", "3栋", "G01", "", None, None, "console",
                    DUE.ack_due_at, DUE.resolve_due_at)
    filed = moves.submit(ACTORS["reporter"], new)
    assert isinstance(filed, moves.Submission) and filed.ticket == new
    assert filed.event == NewEvent("resident", "7", EventAction.CREATED, "",
                                   {"ack_due_at": stamp(DUE.ack_due_at), "resolve_due_at": stamp(DUE.resolve_due_at)})
    for other in ("neighbour", "leader G01", "admin", "system"):
        assert moves.submit(ACTORS[other], new) is Refusal.NOT_ALLOWED


def test_staff_moves_write_who_did_what(model: Model) -> None:
    leader = ACTORS["leader G01"]
    done = moves.acknowledge(ticket(S.ROUTED), leader, model)
    assert done == Transition(moves.Move.ACKNOWLEDGE, TicketChange(5, S.ROUTED, status=S.ACKNOWLEDGED),
                              (NewEvent("person", "g01-leader", EventAction.ACKNOWLEDGED),))
    resolved = moves.resolve(ticket(S.ACKNOWLEDGED), leader, model, "修" * 600, 2)
    assert isinstance(resolved, Transition)
    assert resolved.change == TicketChange(5, S.ACKNOWLEDGED, status=S.RESOLVED, result_note="修" * 500)
    assert resolved.events == (NewEvent("person", "g01-leader", EventAction.RESOLVED, "修" * 500, {"photos": 2}),)


def test_reassign_moves_the_ticket_with_fresh_deadlines(model: Model) -> None:
    g13, g01 = model.grid("G13"), model.grid("G01")
    assert g13 is not None and g01 is not None
    done = moves.reassign(ticket(S.ACKNOWLEDGED), ACTORS["staff longchi"], model, g13, f"  {'远' * 400} ", DUE)
    assert isinstance(done, Transition)
    assert done.change == TicketChange(5, S.ACKNOWLEDGED, status=S.ROUTED, grid_id="G13", community_id="nanqiao",
                                       ack_due_at=DUE.ack_due_at, resolve_due_at=DUE.resolve_due_at)
    assert done.event == NewEvent("person", "lc-staff", EventAction.REASSIGNED, "远" * 300,
                                  {"from": "G01", "to": "G13", **DUE.data()})
    assert moves.reassign(ticket(S.ROUTED), ACTORS["admin"], model, g01, "原因", DUE) is Refusal.SAME_GRID


def test_escalation_renews_the_missed_deadline_only() -> None:
    system = ACTORS["system"]
    missed = NOW - timedelta(minutes=1)
    base = {"from": 0, "to": 1, "people": ["g01-guide"], "missed": stamp(missed)}
    ack = moves.escalate(ticket(S.ROUTED), system, Deadline.ACK, Level.GRID, UP, missed, DUE)
    assert isinstance(ack, Transition)
    assert ack.change == TicketChange(5, S.ROUTED, escalation_level=1, ack_due_at=DUE.ack_due_at,
                                      resolve_due_at=DUE.resolve_due_at)
    assert ack.event == NewEvent("system", "deadline", EventAction.ESCALATED, "",
                                 {"deadline": "ack", **base, **DUE.data()})
    late = moves.escalate(ticket(S.ACKNOWLEDGED), system, Deadline.RESOLVE, Level.GRID, UP, missed, DUE)
    assert isinstance(late, Transition)
    assert late.change == TicketChange(5, S.ACKNOWLEDGED, escalation_level=1, resolve_due_at=DUE.resolve_due_at)
    assert late.event.data == {"deadline": "resolve", **base, "resolve_due_at": stamp(DUE.resolve_due_at)}


def test_a_rating_closes_or_reopens_one_level_up() -> None:
    reporter = ACTORS["reporter"]
    closed = moves.rate(ticket(S.RESOLVED), reporter, Rating.MOSTLY)
    assert isinstance(closed, Transition)
    assert closed.change == TicketChange(5, S.RESOLVED, status=S.CLOSED, rating=Rating.MOSTLY)
    assert closed.events == (NewEvent("resident", "7", EventAction.RATED, "", {"rating": "mostly_satisfied"}),
                             NewEvent("system", "rating", EventAction.CLOSED))
    reopened = moves.rate(ticket(S.RESOLVED), reporter, Rating.UNSATISFIED, (UP, DUE))
    assert isinstance(reopened, Transition)
    assert reopened.change == TicketChange(5, S.RESOLVED, status=S.REOPENED, rating=Rating.UNSATISFIED,
                                           escalation_level=1, ack_due_at=DUE.ack_due_at,
                                           resolve_due_at=DUE.resolve_due_at)
    assert reopened.events == (
        NewEvent("resident", "7", EventAction.RATED, "", {"rating": "unsatisfied"}),
        NewEvent("system", "rating", EventAction.REOPENED, "", {"level": 1, "people": ["g01-guide"], **DUE.data()}))
    with pytest.raises(ValueError):
        moves.rate(ticket(S.RESOLVED), reporter, Rating.UNSATISFIED)
    assert [moves.reopen_level(ticket(S.RESOLVED, level=n)) for n in range(4)] == [
        Level.GUIDE, Level.COMMUNITY, Level.SUBDISTRICT, Level.SUBDISTRICT]


def test_the_domain_core_does_no_io() -> None:
    """No coroutine and no database or network library anywhere in handlers/domain/: the
    transitions can only decide, never write (the flows hand them to storage)."""
    found = {}
    for path in sorted((Path(__file__).resolve().parents[2] / "handlers" / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        io = names & {"aiosqlite", "sqlite3", "aiohttp", "asyncio", "httpx", "socket"}
        io |= {node.name for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef)}
        if io:
            found[path.name] = io
    assert found == {}


# ---------------------------------------------------------------------------------------------
# storage.ticket_changes, through storage's read functions


async def _file(db: Database, clock: FakeClock) -> Ticket:
    async with db.transaction() as conn:
        account = await accounts.ensure_account(conn, "console", "r1", "r1", "居民", clock.now())
        filed = moves.submit(Actor.resident(account.resident_id), NewTicket(
            account.resident_id, "gas", "燃气卡充值", "longchi", "龙池花园", "3栋", "G01", "", None, None,
            "console", clock.now() + timedelta(hours=2), clock.now() + timedelta(hours=24)))
        assert isinstance(filed, moves.Submission)
        ticket_id = await file_ticket(conn, filed.ticket, filed.event, clock.now())
        found = await tickets.get_ticket(conn, ticket_id)
    assert found is not None
    return found


async def test_file_ticket_writes_the_ticket_and_its_created_row(db: Database, clock: FakeClock) -> None:
    filed = await _file(db, clock)
    async with db.read() as conn:
        events = await tickets.events_of(conn, filed.id)
    assert filed.status is S.NEW and filed.description == "燃气卡充值"
    assert [(e.actor_kind, e.actor_id, e.action, e.data) for e in events] == [
        ("resident", str(filed.resident_id), "created",
         {"ack_due_at": stamp(filed.ack_due_at), "resolve_due_at": stamp(filed.resolve_due_at)})]


async def test_apply_transition_writes_the_ticket_and_its_audit_rows(
    db: Database, clock: FakeClock, model: Model
) -> None:
    filed = await _file(db, clock)
    clock.advance(minutes=5)
    g13 = model.grid("G13")
    assert g13 is not None
    moved = moves.reassign(filed, ACTORS["admin"], model, g13, "跨社区", DUE)
    assert isinstance(moved, Transition)
    async with db.transaction() as conn:
        assert await apply_transition(conn, moved.change, moved.events, clock.now()) is True
    async with db.read() as conn:
        after = await tickets.get_ticket(conn, filed.id)
        events = await tickets.events_of(conn, filed.id)
    assert after is not None
    assert (after.status, after.grid_id, after.community_id, after.ack_due_at, after.resolve_due_at) == (
        S.ROUTED, "G13", "nanqiao", DUE.ack_due_at, DUE.resolve_due_at)
    assert [(e.at, e.actor_kind, e.actor_id, e.action, e.note, e.data) for e in events[1:]] == [
        (clock.now(), "person", "sd-admin-1", "reassigned", "跨社区", {"from": "G01", "to": "G13", **DUE.data()})]


async def test_a_second_press_decided_on_a_stale_read_writes_nothing(
    db: Database, clock: FakeClock, model: Model
) -> None:
    """Two 受理 decided on the same read (two leaders, or one pressing twice): only the first
    is written; the second finds the ticket acknowledged already and writes no audit row."""
    filed = await _file(db, clock)
    first = moves.acknowledge(filed, ACTORS["leader G01"], model)
    second = moves.acknowledge(filed, ACTORS["guide G01"], model)
    assert isinstance(first, Transition) and isinstance(second, Transition)
    async with db.transaction() as conn:
        assert await apply_transition(conn, first.change, first.events, clock.now()) is True
        assert await apply_transition(conn, second.change, second.events, clock.now()) is False
        gone = TicketChange(filed.id + 1, S.NEW, status=S.CANCELLED)
        assert await apply_transition(conn, gone, (NewEvent("resident", "1", EventAction.CANCELLED),),
                                      clock.now()) is False
    async with db.read() as conn:
        after = await tickets.get_ticket(conn, filed.id)
        events = await tickets.events_of(conn, filed.id)
        assert await tickets.get_ticket(conn, filed.id + 1) is None
        assert await tickets.events_of(conn, filed.id + 1) == []
    assert after is not None and after.status is S.ACKNOWLEDGED
    assert [(e.action, e.actor_id) for e in events] == [("created", str(filed.resident_id)),
                                                         ("acknowledged", "g01-leader")]


async def test_an_audit_row_that_cannot_be_written_leaves_the_ticket_as_it_was(
    db: Database, clock: FakeClock
) -> None:
    """The rows are prepared before the ticket is touched: a bad event changes nothing."""
    filed = await _file(db, clock)
    change = TicketChange(filed.id, S.NEW, status=S.ROUTED)
    broken = NewEvent("system", "router", EventAction.ROUTED, "", {"people": object()})
    async with db.transaction() as conn:
        with pytest.raises(TypeError):
            await apply_transition(conn, change, (broken,), clock.now())
        unchanged = await tickets.get_ticket(conn, filed.id)
        events = await tickets.events_of(conn, filed.id)
    assert unchanged == filed
    assert [e.action for e in events] == ["created"]
