"""Online backup and restore with SQLite's backup API (never a file copy of a live database).

These run in the `fengshan-bot backup` / `restore` commands' own process, outside any event
loop, so they use the standard library's synchronous sqlite3 module.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.db import BUSY_TIMEOUT_MS, bundled_migrations


class BackupError(Exception):
    """A backup or restore that was refused or failed; nothing was changed."""


class BackupPathError(BackupError):
    """A path that cannot be meant (a folder, or a file in a folder that does not exist)."""


def _existing_folder(path: Path, what: str) -> None:
    # Never created here: a typo in the path would otherwise become a new folder.
    if not path.parent.is_dir():
        raise BackupPathError(f"{what} {path}: folder {path.parent} does not exist; "
                              "check the path or create the folder first")


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    schema_version: int
    tickets: int


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def check_file(path: Path) -> BackupReport:
    """Integrity check and schema version of a database file, opened read-only."""
    if path.is_dir():
        raise BackupPathError(f"{path} is a folder, not a backup file; give the .db file in it")
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            has_tickets = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets'").fetchone()
            tickets = int(conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]) if has_tickets else 0
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    if result != ["ok"]:
        raise BackupError(f"{path} failed the integrity check: {'; '.join(result[:5])}")
    latest = max(number for number, _ in bundled_migrations())
    if version == 0 or not has_tickets:
        raise BackupError(f"{path} is not a 微丰山 database (schema version {version})")
    if version > latest:
        raise BackupError(f"{path} has schema version {version}, newer than this bot's {latest}")
    return BackupReport(path, path.stat().st_size, version, tickets)


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    with closing(_connect(target_path)) as target:
        # One step (pages=-1) reads a single consistent snapshot; stepping would restart on
        # every write the running bot commits meanwhile.
        source.backup(target, pages=-1)


def backup(database: Path, target: Path) -> BackupReport:
    """Copy the live database to `target` (which must not exist) and verify the copy."""
    if not database.is_file():
        raise BackupError(f"database {database} does not exist")
    if target.is_dir():
        raise BackupPathError(f"{target} is a folder; give a new file name in it, e.g. {target / database.name}")
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    _existing_folder(target, "backup")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(_connect(database)) as source:
            _copy(source, partial)
        _drop_wal(partial)
        report = check_file(partial)
        partial.rename(target)
    except (sqlite3.Error, BackupError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise exc if isinstance(exc, BackupError) else BackupError(f"backup failed: {exc}") from exc
    return BackupReport(target, report.size_bytes, report.schema_version, report.tickets)


def _drop_wal(path: Path) -> None:
    """A backup file is self-contained: rollback journal mode, no -wal/-shm beside it."""
    with closing(_connect(path)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")


def restore(backup_file: Path, database: Path, now: datetime | None = None) -> tuple[BackupReport, Path | None]:
    """Replace the database with a verified backup; the old one is kept beside it first.

    The bot must be stopped: a running bot would keep writing into the file being replaced.
    Returns the restored file's report and where the previous database was saved (if any).
    """
    check_file(backup_file)
    _existing_folder(database, "database")
    if database.is_dir():
        raise BackupPathError(f"database {database} is a folder")
    saved: Path | None = None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    try:
        if database.exists():
            saved = database.with_name(f"{database.stem}.before-restore-{stamp}{database.suffix}")
            with closing(_connect(database)) as live:
                _copy(live, saved)
            _drop_wal(saved)
        with closing(_connect(backup_file)) as source, closing(_connect(database)) as target:
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"restore failed: {exc}") from exc
    return check_file(database), saved
