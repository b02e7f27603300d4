"""`fengshan-bot backup PATH` (online, while the bot runs) and `fengshan-bot restore PATH` (bot stopped)."""

from __future__ import annotations

import sys
from pathlib import Path

from storage.backup import BackupError, BackupPathError, backup, restore

EXIT_FAILED = 1
EXIT_USAGE = 2  # a path that cannot be meant: nothing was tried


def backup_command(database: Path, target: Path) -> int:
    try:
        report = backup(database, target)
    except BackupError as exc:
        print(f"备份失败 backup failed: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, BackupPathError) else EXIT_FAILED
    print(f"已备份 backed up {database} → {report.path}: {report.size_bytes} bytes, "
          f"schema {report.schema_version}, {report.tickets} tickets, integrity ok")
    return 0


def restore_command(backup_file: Path, database: Path) -> int:
    try:
        report, saved = restore(backup_file, database)
    except BackupError as exc:
        print(f"恢复失败 restore failed (nothing changed): {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, BackupPathError) else EXIT_FAILED
    if saved is not None:
        print(f"原数据库已另存 previous database saved as {saved}")
    print(f"已恢复 restored {backup_file} → {database}: schema {report.schema_version}, "
          f"{report.tickets} tickets, integrity ok. Start the bot again to continue.")
    return 0
