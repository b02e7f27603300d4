"""Conversation state per (channel, user): ours, so it survives restarts on every channel."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from storage.clock import stamp
from storage.db import fetch_one
from storage.engine import Connection
from storage.pipeline import write


@dataclass(frozen=True)
class Dialog:
    flow: str
    step: str
    data: dict = field(default_factory=dict)


async def load_dialog(conn: Connection, channel: str, user_id: str) -> Dialog | None:
    row = await fetch_one(
        conn, "SELECT flow, step, data FROM dialogs WHERE channel = ? AND user_id = ?",
        (channel, user_id),
    )
    return Dialog(row[0], row[1], json.loads(row[2])) if row else None


async def save_dialog(
    conn: Connection, channel: str, user_id: str, dialog: Dialog, now: datetime
) -> None:
    await write(
        conn,
        "INSERT INTO dialogs (channel, user_id, flow, step, data, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (channel, user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step,"
        " data = excluded.data, updated_at = excluded.updated_at",
        (channel, user_id, dialog.flow, dialog.step, json.dumps(dialog.data, ensure_ascii=False),
         stamp(now)),
    )


async def clear_dialog(conn: Connection, channel: str, user_id: str) -> None:
    await write(conn, "DELETE FROM dialogs WHERE channel = ? AND user_id = ?", (channel, user_id))
