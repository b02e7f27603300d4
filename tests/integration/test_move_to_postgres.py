"""`fengshan-bot move-to-postgres`: a SQLite database filled through the flows (the Fengshan sample
config) moves into an empty PostgreSQL database with every row, the counts are printed and
match, and the bot on the target goes on serving the residents of the old one. Refused: a target
that holds rows, a source the bot still holds, a URL or password the server refuses (never
printing the password)."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.cli_move import move_command
from bot.config import Config
from handlers.escalation import sweep_deadlines
from handlers.staff_link import LINK_VALID_FOR
from storage import attachments, web_sessions
from storage.clock import FakeClock
from storage.db import Database
from tests.chat import ChatUser, bind, file_report
from tests.conftest import ROOT
from tests.fakes.pg_refusing import RefusingPostgres
from tests.pg_cluster import Cluster

pytestmark = pytest.mark.timeout(120)
PASSWORD = "s3cret-Pa55"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


async def fill(app: App) -> None:
    """Residents, a ticket with events and photos, an announcement with a sign-up, a web session."""
    leader = ChatUser(app, "leader-g01")
    admin = ChatUser(app, "admin-1")
    resident = ChatUser(app, "resident-1")
    await bind(app, leader, "g01-leader")
    await bind(app, admin, "sd-admin-1")
    await file_report(resident)
    await resident.press_data("my:add:1")
    await resident.photo("later-photo")
    await file_report(ChatUser(app, "resident-2"), description="2栋门口的垃圾两天没人收了", category="环境卫生")
    await admin.say("发布公告")
    await admin.say("爱心义剪")
    await admin.press("全部群")
    await admin.say("立即")
    await admin.say("10 周六上午九点")
    await admin.press("确认发布")
    number = re.search(r"公告 #(\d+)", admin.text)
    assert number, admin.text
    await resident.say(f"报名 {number.group(1)}")
    await resident.say("张三 13812345678")
    assert "报名成功" in resident.text
    await leader.say("工作台")
    token = leader.last.text.splitlines()[-1].rsplit("token=", 1)[1]
    async with app.db.transaction() as conn:
        redeemed = await web_sessions.redeem_link(conn, token, app.clock.now())
        await web_sessions.create_session(conn, redeemed.person_id, "leader", app.clock.now())
        await web_sessions.create_link(conn, "g01-leader", app.clock.now(), LINK_VALID_FOR)
        await attachments.store_web_photo(conn, 1, PNG, "image/png", app.clock.now())
        # The deadline sweep has looked: each open ticket's watch_at is its next look, not ''.
        await sweep_deadlines(conn, app.services, app.clock.now())


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(path)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def sqlite_rows_of(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


async def pg_rows(url: str, tables: list[str]) -> dict[str, list[tuple]]:
    conn = await asyncpg.connect(url)
    try:
        found = {}
        for name in tables:
            rows = await conn.fetch(f'SELECT * FROM "{name}"')
            found[name] = sorted((tuple(r.values()) for r in rows), key=repr)
        return found
    finally:
        await conn.close()


async def tables_of(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [r[0] for r in await conn.fetch("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = 'public'")]
    finally:
        await conn.close()


@pytest.fixture
async def filled(sample_config: Config, tmp_path: Path) -> Path:
    """The sample subdistrict's SQLite database after a morning of use."""
    app = await build_app(sample_config, FakeClock(), tmp_path / "fengshan.db")
    try:
        await fill(app)
    finally:
        await app.close()
    return tmp_path / "fengshan.db"


@pytest.fixture
async def bare(tmp_path: Path) -> Path:
    """A migrated SQLite database with nothing in it yet: enough for the refusals."""
    db = await Database.open(tmp_path / "fengshan.db", FakeClock())
    await db.close()
    return tmp_path / "fengshan.db"


@pytest.fixture
async def target(pg_cluster: Cluster) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (no migrations: the move applies them)."""
    name = f"move_{id(object())}"
    url = await pg_cluster.create(name)
    yield url
    await pg_cluster.drop(name)


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


async def cli(*argv: str) -> Done:
    """`fengshan-bot ARGV` as the operator runs it: a process of its own, with the sample config
    (the refusals below call the command's function in a thread: a process costs seconds)."""
    env = {**os.environ, "FENGSHAN_DB_PASSWORD": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml"), *argv, env=env, cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    return Done(process.returncode or 0, out.decode(), err.decode())


async def test_the_sample_database_moves_and_the_bot_serves_it(
        filled: Path, target: str, sample_config: Config, tmp_path: Path) -> None:
    before = sqlite_rows(filled)
    assert all(row[0] for row in sqlite_rows_of(filled, "SELECT watch_at FROM tickets"))
    for table in ("residents", "tickets", "ticket_events", "ticket_photos", "web_photos", "announcements",
                  "signups", "web_sessions", "web_links", "outbox", "inbox"):
        assert before[table], f"the fill left {table} empty"

    done = await cli("move-to-postgres", "--from", str(filled), "--to", target)

    assert done.code == 0, done.err
    for table, rows in before.items():
        assert re.search(rf"^{table}\s+{len(rows)}\s+{len(rows)}$", done.out, re.MULTILINE), (table, done.out)
    assert "every count matches" in done.out
    # Every row as it was: BLOBs as BYTEA, stamps as the same text, triggers' columns untouched.
    assert await pg_rows(target, list(before)) == before
    assert sqlite_rows(filled) == before  # the source is only read

    config = sample_config.model_copy(update={"storage": sample_config.storage.model_copy(update={"url": target})})
    app = await build_app(config, FakeClock(), tmp_path / "unused.db")
    try:
        resident = ChatUser(app, "resident-1")
        await resident.say("/mytickets")
        assert "最近的工单" in resident.text and any("#1" in option for option in resident.options)
        new = await file_report(ChatUser(app, "resident-3"), address="龙池花园5栋")
        assert new == 3  # the ids go on after the moved ones
    finally:
        await app.close()
    assert not (tmp_path / "unused.db").exists()


async def command(source: Path, url: str, capsys: pytest.CaptureFixture[str]) -> Done:
    """move-to-postgres's own function in a thread (it runs its own event loop), as main calls it."""
    code = await asyncio.to_thread(move_command, source, url)
    printed = capsys.readouterr()
    return Done(code, printed.out, printed.err)


async def test_a_target_holding_tables_is_refused_and_left_as_it_was(
        bare: Path, target: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = await Database.open(target, FakeClock())
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO residents (created_at) VALUES (?)", ("2026-01-01T00:00:00+00:00",))
    finally:
        await db.close()

    done = await command(bare, target, capsys)

    assert done.code == 1
    assert "is not empty (it has tables: accounts, " in done.err  # the first tables by name, then …
    assert "nothing was changed" in done.err
    rows = await pg_rows(target, ["residents", "tickets"])
    assert (len(rows["residents"]), len(rows["tickets"])) == (1, 0)


async def test_a_source_the_bot_holds_is_refused(
        bare: Path, target: str, capsys: pytest.CaptureFixture[str]) -> None:
    running = await Database.open(bare, FakeClock())  # what a running bot keeps open
    try:
        done = await command(bare, target, capsys)
    finally:
        await running.close()
    assert done.code == 1
    assert "is in use (is the bot running?): stop the bot first" in done.err
    assert await tables_of(target) == []  # not even the migrations


async def test_a_refused_password_is_reported_without_it(
        bare: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FENGSHAN_DB_PASSWORD", PASSWORD)
    async with RefusingPostgres() as server:
        done = await command(bare, server.url("fengshan", "fengshan"), capsys)
    assert done.code == 1
    assert server.passwords == [PASSWORD]  # it was sent, from the environment
    assert 'password authentication failed for user "fengshan"' in done.err
    assert f"cannot connect to postgresql://fengshan@127.0.0.1:{server.port}/fengshan" in done.err
    assert PASSWORD not in done.out + done.err


async def test_a_wrong_database_or_a_password_in_the_url_is_a_clear_message(
        bare: Path, pg_cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    done = await command(bare, pg_cluster.url("no_such_db"), capsys)
    assert done.code == 1 and 'database "no_such_db" does not exist' in done.err
    typed = pg_cluster.url("fengshan").replace("postgres@", f"postgres:{PASSWORD}@")
    done = await command(bare, typed, capsys)
    assert done.code == 2 and "no password in the URL" in done.err
    assert PASSWORD not in done.out + done.err
