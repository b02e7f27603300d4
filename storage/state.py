"""The bot's key/value state (table `channel_state`): small marks that must survive a restart —
Telegram's update offset, WeChat's access token, the next weekly digest, the stats facts mark.
Keys are namespaced by their owner ("scheduler:…", "stats:…")."""

from __future__ import annotations

from storage.db import fetch_one
from storage.engine import Connection


async def get_state(conn: Connection, key: str) -> str | None:
    row = await fetch_one(conn, "SELECT value FROM channel_state WHERE key = ?", (key,))
    return str(row[0]) if row else None


async def set_state(conn: Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO channel_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
