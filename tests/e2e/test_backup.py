"""Online backup under write load, and restore: `fengshan-bot backup PATH` / `restore PATH`."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from storage.clock import FakeClock
from tests.chat import ChatUser, all_tickets, file_report, pause

ROOT = Path(__file__).resolve().parents[2]


async def cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT,
        env={**os.environ, "BOT_CONFIG": str(ROOT / "config.yaml")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return int(proc.returncode or 0), out.decode()


def files(folder: Path, pattern: str) -> list[str]:
    return sorted(path.name for path in folder.glob(pattern))


def rows(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


async def test_backup_under_write_load_is_consistent_and_restores(
    app: App, config: Config, clock: FakeClock, tmp_path: Path
) -> None:
    """Fault: a backup taken while residents keep filing reports. Expected: the copy passes
    PRAGMA integrity_check, holds a consistent snapshot (every ticket with its events), and
    a bot started on the restored file carries on from there."""
    residents = [ChatUser(app, f"writer-{n}") for n in range(3)]
    await file_report(residents[0])
    before = len(await all_tickets(app))
    target = tmp_path / "backups" / "fengshan.db"
    target.parent.mkdir()  # the command never creates a missing folder (a typo would pass unseen)
    backup = asyncio.create_task(cli("--database", str(app.db.path), "backup", str(target)))
    filed_during = 0
    while not backup.done() or filed_during == 0:
        await file_report(residents[filed_during % 3], description=f"写入压力 {filed_during}")
        filed_during += 1
        pause(app)  # each writer stays within the flood guard's 20 messages a minute
    code, output = await backup
    assert code == 0, output
    assert "integrity ok" in output
    after = len(await all_tickets(app))

    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    in_backup = rows(target, "SELECT COUNT(*) FROM tickets")[0][0]
    assert before <= in_backup <= after
    # A snapshot, not a torn copy: each ticket's creation and routing events are there too.
    assert rows(target, "SELECT COUNT(*) FROM ticket_events WHERE action = 'created'")[0][0] == in_backup
    assert rows(target, "SELECT COUNT(*) FROM ticket_events WHERE action = 'routed'")[0][0] == in_backup
    assert files(target.parent, "*") == ["fengshan.db"]  # no -wal, no .partial left beside it

    restored = tmp_path / "restored" / "bot.db"
    restored.parent.mkdir()
    code, output = await cli("--database", str(restored), "restore", str(target))
    assert code == 0, output
    again = await build_app(config, clock, restored)
    try:
        assert len(await all_tickets(again)) == in_backup
        new_id = await file_report(ChatUser(again, "after-restore"))
        assert new_id == in_backup + 1
    finally:
        await again.close()


async def test_backup_never_overwrites_and_bad_restores_change_nothing(app: App, tmp_path: Path) -> None:
    """Fault: backing up onto an existing file; restoring garbage or a newer schema. Expected:
    refused with a message and exit 1; the existing file and the live database are untouched."""
    await file_report(ChatUser(app, "resident-1"))
    existing = tmp_path / "old.db"
    existing.write_bytes(b"keep me")
    code, output = await cli("--database", str(app.db.path), "backup", str(existing))
    assert code == 1 and "already exists" in output
    assert existing.read_bytes() == b"keep me"

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    code, output = await cli("--database", str(app.db.path), "restore", str(garbage))
    assert code == 1 and "nothing changed" in output

    newer = tmp_path / "newer.db"
    code, _ = await cli("--database", str(app.db.path), "backup", str(newer))
    assert code == 0
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
    code, output = await cli("--database", str(app.db.path), "restore", str(newer))
    assert code == 1 and "newer than this bot" in output

    assert len(await all_tickets(app)) == 1
    assert not files(tmp_path, "*before-restore*")
