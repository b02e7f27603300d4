"""The record of every export from the staff workplace (migration 0025): who made it, when, of
what (the ticket list or the 三率 table), in which format, with which filter, and how many rows.

The record is written before the file is sent, so an export that a dropped connection cut short
is still on the list (with the rows it was to hold)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, insert_id
from storage.engine import Connection


class ExportKind(StrEnum):
    TICKETS = "tickets"  # the board's filtered list
    RATES = "rates"  # the 三率 table for a period


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class ExportRecord:
    id: int
    person_id: str
    at: datetime
    kind: ExportKind
    format: ExportFormat
    filter: Mapping[str, str]
    row_count: int


async def record_export(conn: Connection, person_id: str, at: datetime, kind: ExportKind,
                        fmt: ExportFormat, filter_: Mapping[str, str], row_count: int) -> int:
    found = await insert_id(
        conn, "INSERT INTO exports (person_id, at, kind, format, filter, row_count)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (person_id, stamp(at), kind.value, fmt.value, json.dumps(dict(filter_), ensure_ascii=False,
                                                                  sort_keys=True), row_count))
    assert found is not None
    return found


async def recent_exports(conn: Connection, limit: int = 50) -> list[ExportRecord]:
    """The newest exports first."""
    rows = await fetch_all(conn, "SELECT id, person_id, at, kind, format, filter, row_count FROM exports"
                                 " ORDER BY id DESC LIMIT ?", (limit,))
    return [ExportRecord(int(r[0]), str(r[1]), parse_stamp(r[2]), ExportKind(r[3]), ExportFormat(r[4]),
                         json.loads(r[5]), int(r[6])) for r in rows]
