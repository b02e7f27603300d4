"""`fengshan-bot move-to-postgres --from data/fengshan.db --to postgresql://…`: the SQLite database
into an empty PostgreSQL one, with the row counts of every table compared and printed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

EXIT_FAILED = 1
EXIT_USAGE = 2


def move_command(source: Path, url: str | None) -> int:
    from storage import pg
    from storage.db import postgresql_url
    from storage.move import MoveError, move, password_in

    target = postgresql_url(url or "")
    if target is None:
        print("move-to-postgres: give --to postgresql://user@host:port/database (or set storage.url); "
              "the password goes in FENGSHAN_DB_PASSWORD", file=sys.stderr)
        return EXIT_USAGE
    if password_in(target):
        print(f"move-to-postgres: no password in the URL (shell history keeps it): "
              f"--to {pg.shown_url(target)} and the password in FENGSHAN_DB_PASSWORD", file=sys.stderr)
        return EXIT_USAGE
    print(f"迁移 moving {source} → {pg.shown_url(target)} …", flush=True)
    try:
        report = asyncio.run(move(source, target))
    except MoveError as exc:
        print(f"迁移失败 move failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    width = max(len(count.table) for count in report.counts)
    print(f"{'table':<{width}}  {'SQLite':>9}  {'PostgreSQL':>10}")
    for count in report.counts:
        mark = "" if count.source == count.target else "  ≠"
        print(f"{count.table:<{width}}  {count.source:>9}  {count.target:>10}{mark}")
    if report.mismatched:
        names = ", ".join(count.table for count in report.mismatched)
        print(f"迁移失败 row counts differ in {names}: do not start the bot on the target", file=sys.stderr)
        return EXIT_FAILED
    total = sum(count.source for count in report.counts)
    print(f"已迁移 moved {len(report.counts)} tables, {total} rows, schema {report.schema_version}: "
          "every count matches. Set storage.url to the target and start the bot.")
    return 0
