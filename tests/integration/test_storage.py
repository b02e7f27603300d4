"""The SQLite layer on a real database file: pragmas, migrations, triggers, inbox and outbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App
from storage import accounts, inbox, outbox, reads, state, tickets
from storage.clock import FakeClock, stamp
from storage.db import BUSY_TIMEOUT_MS, Database, bundled_migrations
from storage.engine import Engine, integrity_errors
from storage.outbox import OutboxStatus
from storage.pipeline import HeldWriteFailed
from tests.chat import ChatUser, account, all_tickets, audit, file_report, query, read, steps


async def pragma(db: Database, name: str) -> object:
    async with db.read() as conn, conn.execute(f"PRAGMA {name}") as cursor:
        return (await cursor.fetchone())[0]


TRIGGERS = {
    Engine.SQLITE: "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
    Engine.POSTGRESQL: "SELECT DISTINCT trigger_name FROM information_schema.triggers ORDER BY trigger_name",
}


async def test_migrations_set_the_latest_version(db: Database) -> None:
    latest = max(number for number, _ in bundled_migrations())
    assert latest >= 1
    assert await db.schema_version() == latest
    if db.engine is Engine.SQLITE:
        assert await pragma(db, "user_version") == latest
    async with db.read() as conn, conn.execute(TRIGGERS[db.engine]) as cursor:
        assert [r[0] for r in await cursor.fetchall()] == [
            "ticket_events_no_delete", "ticket_events_redact_only",
            # 0031: the 三率 counts per month, place and judgement follow every judgement written.
            "ticket_rate_counts_added", "ticket_rate_counts_changed", "ticket_rate_counts_removed",
            # 0030: the stored 三率 judgement follows a ticket moved to another grid or category.
            "ticket_rate_marks_place",
            # 0028: the board's counts per state follow every ticket written.
            "ticket_state_counts_delete", "ticket_state_counts_insert", "ticket_state_counts_update",
            # 0030: a 不满意 reason blanked (erasure) is judged again.
            "ticket_unsatisfied_note",
            # 0022: a ticket's state or due times written → the sweep looks at it again.
            "tickets_watch_again", "tickets_watch_new"]


async def test_reopening_does_not_reapply_migrations(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "store.db"
    first = await Database.open(path, clock)
    async with first.transaction() as conn:
        await conn.execute("INSERT INTO residents (display_name, created_at) VALUES ('kept', ?)",
                           (stamp(clock.now()),))
    version = await first.schema_version()
    await first.close()

    again = await Database.open(path, clock)  # CREATE TABLE would fail if re-applied
    try:
        assert await again.schema_version() == version
        assert await again.migrate() == version
        async with again.read() as conn, conn.execute("SELECT display_name FROM residents") as cursor:
            assert [r[0] for r in await cursor.fetchall()] == ["kept"]
    finally:
        await again.close()


@pytest.mark.sqlite_only
async def test_durable_pragmas(app: App) -> None:
    db = app.db
    assert await pragma(db, "journal_mode") == "wal"
    assert await pragma(db, "synchronous") == 2  # FULL
    assert await pragma(db, "busy_timeout") == BUSY_TIMEOUT_MS > 0
    assert await pragma(db, "foreign_keys") == 1


async def test_foreign_keys_are_enforced(db: Database, clock: FakeClock) -> None:
    with pytest.raises(integrity_errors()):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO ticket_events (ticket_id, at, actor_kind, actor_id, action)"
                " VALUES (999, ?, 'system', 'test', 'created')", (stamp(clock.now()),))


async def test_ticket_events_are_append_only(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    before = await query(app, "SELECT * FROM ticket_events")
    assert before
    for sql in ("UPDATE ticket_events SET note = 'rewritten'", "DELETE FROM ticket_events",
                "UPDATE ticket_events SET note = '', action = 'resolved'",
                "UPDATE ticket_events SET note = '', at = '2020-01-01'"):
        with pytest.raises(integrity_errors(), match="append-only"):
            async with app.db.transaction() as conn:
                await conn.execute(sql)
    assert await query(app, "SELECT * FROM ticket_events") == before
    # Erasure and retention may blank a note, and nothing else.
    async with app.db.transaction() as conn:
        await conn.execute("UPDATE ticket_events SET note = ''")
    assert await query(app, "SELECT id, ticket_id, at, actor_kind, actor_id, action, data FROM ticket_events") \
        == [(*row[:6], row[7]) for row in before]


async def test_inbox_store_dedupes(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as conn:
        assert await inbox.store(conn, "telegram", "1001", '{"update_id": 1001}', clock.now()) is True
        assert await inbox.store(conn, "telegram", "1001", '{"update_id": 1001}', clock.now()) is False
        # The same platform id on another channel is another update.
        assert await inbox.store(conn, "wechat", "1001", "{}", clock.now()) is True
        items = await inbox.pending(conn, "telegram")
    assert [(i.platform_id, i.attempts) for i in items] == [("1001", 0)]


async def test_inbox_failures_park_after_three_attempts(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as conn:
        await inbox.store(conn, "telegram", "7", "{}", clock.now())
        item = (await inbox.pending(conn, "telegram"))[0]
        assert await inbox.record_failure(conn, item.id, "ValueError", clock.now()) is False
        assert await inbox.record_failure(conn, item.id, "ValueError", clock.now()) is False
        assert await inbox.record_failure(conn, item.id, "ValueError", clock.now()) is True
        assert await inbox.pending(conn, "telegram") == []


async def enqueue(db: Database, clock: FakeClock, chat: str, text: str, channel: str = "telegram") -> int:
    async with db.transaction() as conn:
        return await outbox.enqueue(conn, channel, chat, {"text": text}, clock.now())


async def test_claim_due_gives_the_oldest_row_per_chat(db: Database, clock: FakeClock) -> None:
    a1 = await enqueue(db, clock, "chat-a", "a1")
    a2 = await enqueue(db, clock, "chat-a", "a2")
    b1 = await enqueue(db, clock, "chat-b", "b1")
    await enqueue(db, clock, "chat-a", "other channel", channel="wechat")
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(conn, "telegram", clock.now())
    assert [r.id for r in claimed] == [a1, b1]
    async with db.read() as conn:
        rows = {r.id: r for r in await outbox.rows_for(conn, "telegram", "chat-a")}
    assert (rows[a1].status, rows[a1].attempts) == (OutboxStatus.CLAIMED, 1)
    assert rows[a2].status == OutboxStatus.PENDING

    # While a1 is in flight, a2 waits: order per chat is kept.
    async with db.transaction() as conn:
        assert await outbox.claim_due(conn, "telegram", clock.now()) == []
        await outbox.mark_sent(conn, a1, "m-1", clock.now())
        await outbox.mark_sent(conn, b1, "m-2", clock.now())
        assert [r.id for r in await outbox.claim_due(conn, "telegram", clock.now())] == [a2]


async def test_claim_due_puts_staff_cards_first_and_keeps_each_chats_order(db: Database, clock: FakeClock) -> None:
    replies = [await enqueue(db, clock, f"resident-{n}", "reply") for n in range(3)]
    async with db.transaction() as conn:
        card = await outbox.enqueue(conn, "telegram", "leader", {"text": "card"}, clock.now(), kind="card")
        notice = await outbox.enqueue(conn, "telegram", "admin", {"text": "late"}, clock.now(),
                                      kind="staff_notice")
        claimed = await outbox.claim_due(conn, "telegram", clock.now(), limit=3)
    assert [r.id for r in claimed] == [card, notice, replies[0]]


async def test_claim_due_waits_for_next_attempt(db: Database, clock: FakeClock) -> None:
    row = await enqueue(db, clock, "chat-a", "a1")
    async with db.transaction() as conn:
        await outbox.claim_due(conn, "telegram", clock.now())
        await outbox.mark_retry(conn, row, clock.now() + timedelta(seconds=30), "429")
        assert await outbox.claim_due(conn, "telegram", clock.now()) == []
        assert await outbox.next_due_at(conn, "telegram") == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=30)
    async with db.transaction() as conn:
        assert [r.id for r in await outbox.claim_due(conn, "telegram", clock.now())] == [row]


async def test_recover_interrupted_resends_sending_rows(db: Database, clock: FakeClock) -> None:
    """A row left 'sending' by a crash may or may not have arrived: it is due again at once, its
    try counted and marked as a resend; one that used its last try is given up on, uncertain."""
    sending = await enqueue(db, clock, "chat-a", "in flight")
    waiting = await enqueue(db, clock, "chat-b", "not yet")
    exhausted = await enqueue(db, clock, "chat-c", "last try")
    async with db.transaction() as conn:
        await outbox.claim_due(conn, "telegram", clock.now())  # all claimed; two on the wire
        await conn.execute("UPDATE outbox SET attempts = 3 WHERE id = ?", (exhausted,))
        await outbox.mark_sending(conn, sending)
        await outbox.mark_sending(conn, exhausted)
        assert await outbox.recover_interrupted(conn, "telegram", max_attempts=3) == (1, 1)
        assert await outbox.recover_interrupted(conn, "wechat", max_attempts=3) == (0, 0)
    async with db.read() as conn:
        [a] = await outbox.rows_for(conn, "telegram", "chat-a")
        [b] = await outbox.rows_for(conn, "telegram", "chat-b")
        [c] = await outbox.rows_for(conn, "telegram", "chat-c")
    assert (a.id, a.status, a.attempts, a.resends) == (sending, OutboxStatus.PENDING, 1, 1)
    assert a.last_error == "interrupted while sending: may have been delivered"
    assert (b.id, b.status, b.attempts, b.resends) == (waiting, OutboxStatus.PENDING, 0, 0)
    assert (c.id, c.status, c.resends) == (exhausted, OutboxStatus.UNCERTAIN, 0)
    assert c.last_error == "gave up: interrupted while sending: may have been delivered"
    # The resent row keeps its place: the chat's later row waits behind it.
    later = await enqueue(db, clock, "chat-a", "later")
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(conn, "telegram", clock.now())
    assert {r.id for r in claimed} == {sending, waiting} and later not in {r.id for r in claimed}
    assert [r.attempts for r in claimed if r.id == sending] == [2]


async def test_transaction_rolls_back_on_exception(db: Database, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO residents (display_name, created_at) VALUES ('x', ?)",
                               (stamp(clock.now()),))
            await outbox.enqueue(conn, "telegram", "chat-a", {"text": "x"}, clock.now())
            raise RuntimeError("handler crashed")
    async with db.read() as conn:
        for table in ("residents", "outbox"):
            async with conn.execute(f"SELECT COUNT(*) FROM {table}") as cursor:
                assert (await cursor.fetchone())[0] == 0
    # The connection is usable afterwards.
    async with db.transaction() as conn:
        await state.set_state(conn, "offset", "5")
    async with db.read() as conn:
        assert await state.get_state(conn, "offset") == "5"


async def test_a_failing_handler_writes_nothing(app: App, resident: ChatUser) -> None:
    """Engine: the dispatcher's writes and its outbox rows commit together or not at all. The
    database refuses any outbox row once a ticket exists (a trigger standing in for a crash after
    the ticket is filed, while its card is queued): the ticket and its events roll back too."""
    async with app.db.transaction() as conn:
        if app.db.engine is Engine.SQLITE:
            await conn.execute("CREATE TRIGGER refuse_cards BEFORE INSERT ON outbox"
                               " WHEN (SELECT COUNT(*) FROM tickets) > 0"
                               " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        else:  # the same trigger in PL/pgSQL, sent as it is (nothing to translate)
            await conn.raw.execute(
                "CREATE FUNCTION refuse_cards() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " IF (SELECT COUNT(*) FROM tickets) > 0 THEN RAISE EXCEPTION 'refused by the test'"
                " USING ERRCODE = 'restrict_violation'; END IF; RETURN NEW; END $$;"
                " CREATE TRIGGER refuse_cards BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_cards()")
    with pytest.raises((*integrity_errors(), HeldWriteFailed)) as failed:
        await file_report(resident)
    # On SQLite the card's outbox row is held and sent with the handling's last writes
    # (storage/pipeline.py): the database's refusal arrives as the cause of HeldWriteFailed.
    refusal = failed.value.__cause__ if isinstance(failed.value, HeldWriteFailed) else failed.value
    assert isinstance(refusal, integrity_errors()) and "refused by the test" in str(refusal)
    assert await all_tickets(app) == []
    assert await audit(app) == []
    assert [step for _, step in await steps(app)] == ["summary"]


async def test_update_ticket_sets_deadlines_only_when_given(app: App, clock: FakeClock, resident: ChatUser) -> None:
    await file_report(resident)
    async with app.db.read() as conn:
        original = await tickets.get_ticket(conn, 1)
    assert original is not None
    clock.advance(hours=30)
    async with app.db.transaction() as conn:
        await tickets.update_ticket(conn, 1, clock.now(), result_note="x")
        unchanged = await tickets.get_ticket(conn, 1)
        await tickets.update_ticket(conn, 1, clock.now(), ack_due_at=clock.now() + timedelta(hours=2),
                                    resolve_due_at=clock.now() + timedelta(hours=48))
        moved = await tickets.get_ticket(conn, 1)
    assert unchanged is not None and moved is not None
    assert (unchanged.ack_due_at, unchanged.resolve_due_at) == (original.ack_due_at, original.resolve_due_at)
    assert moved.ack_due_at == clock.now() + timedelta(hours=2) > clock.now()
    assert moved.resolve_due_at == clock.now() + timedelta(hours=48)
    assert await query(app, "SELECT ack_due_at, resolve_due_at, updated_at FROM tickets") == [
        (stamp(moved.ack_due_at), stamp(moved.resolve_due_at), stamp(clock.now()))]


async def test_redeem_invite_needs_an_active_person(app: App, clock: FakeClock, resident: ChatUser) -> None:
    await resident.say("/start")  # creates the account
    async with app.db.transaction() as conn:
        code = await accounts.create_invite(conn, "g01-leader", clock.now(), timedelta(days=7))
        await conn.execute("UPDATE people SET active = 0 WHERE id = 'g01-leader'")
        assert await accounts.redeem_invite(conn, code, "console", "resident-1", clock.now()) is None
    invite = await read(app, reads.invite, code)
    assert invite is not None and (invite.used_at, invite.used_by) == (None, None)
    assert (await account(app, "console", "resident-1")).person_id is None
    async with app.db.transaction() as conn:
        await conn.execute("UPDATE people SET active = 1 WHERE id = 'g01-leader'")
        assert await accounts.redeem_invite(conn, code, "console", "resident-1", clock.now()) == "g01-leader"
    assert (await account(app, "console", "resident-1")).person_id == "g01-leader"


@pytest.mark.sqlite_only  # the database thread is kept busy through aiosqlite itself
async def test_a_transaction_cancelled_while_it_waits_for_its_begin_leaves_none_open(db: Database) -> None:
    # A long statement straight on the connection keeps aiosqlite's thread busy, so the
    # transaction's BEGIN waits behind it and the task is cancelled right there.
    busy = asyncio.create_task(db._conn.execute_fetchall(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT COUNT(*) FROM c"))
    entered = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as conn:
            entered.set()
            await conn.execute("INSERT INTO channel_state (key, value) VALUES ('cancelled', '1')")

    waiting = asyncio.create_task(write())
    for _ in range(5):
        await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await busy
    assert not entered.is_set()
    async with db.transaction() as conn:  # before: "cannot start a transaction within a transaction"
        await conn.execute("INSERT INTO channel_state (key, value) VALUES ('after', '1')")
    async with db.read() as conn:
        assert [tuple(r) for r in await conn.execute_fetchall(
            "SELECT key, value FROM channel_state WHERE key IN ('cancelled', 'after')")] == [("after", "1")]
