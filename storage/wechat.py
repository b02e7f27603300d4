"""WeChat state: the customer-service window, numbered choices, msgmenu items, passive replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id
from storage.engine import Connection
from storage.pipeline import write

# WeChat's customer-service rules: after a message, 5 pushes within 48 h; after a menu tap,
# 3 pushes within a minute.
MESSAGE_WINDOW = timedelta(hours=48)
MESSAGE_QUOTA = 5
TAP_WINDOW = timedelta(minutes=1)
TAP_QUOTA = 3
MENU_ITEMS_KEPT = 200  # per follower; older msgmenu taps then count as expired options


class Interaction(StrEnum):
    MESSAGE = "message"  # a text, photo, location, voice ... or a follow
    TAP = "tap"  # a custom-menu click


@dataclass(frozen=True)
class WindowCheck:
    allowed: bool
    reason: str = ""
    used: Interaction | None = None  # whose quota the slot came from, to give it back


_GIVE_BACK = {
    Interaction.MESSAGE: "UPDATE wechat_windows SET message_sent = MAX(message_sent - 1, 0) WHERE openid = ?",
    Interaction.TAP: "UPDATE wechat_windows SET tap_sent = MAX(tap_sent - 1, 0) WHERE openid = ?",
}


Choices = list[tuple[str, str]]


async def record_interaction(conn: Connection, openid: str, kind: Interaction,
                             now: datetime) -> Choices:
    """A follower's message or tap opens (or reopens) the window for pushes. Returns the last
    numbered list shown to them (what a typed "2" refers to), read by the same statement: one
    trip to the database for both, on every callback."""
    if kind is Interaction.MESSAGE:
        sql = ("INSERT INTO wechat_windows (openid, message_at, message_sent) VALUES (?, ?, 0)"
               " ON CONFLICT (openid) DO UPDATE SET message_at = excluded.message_at, message_sent = 0")
    else:
        sql = ("INSERT INTO wechat_windows (openid, tap_at, tap_sent) VALUES (?, ?, 0)"
               " ON CONFLICT (openid) DO UPDATE SET tap_at = excluded.tap_at, tap_sent = 0")
    rows = await fetch_all(conn, sql + _RETURNING_CHOICES, (openid, stamp(now)))
    return _choices(rows[0][0] if rows else None)


_RETURNING_CHOICES = (" RETURNING (SELECT c.options FROM wechat_choices AS c"
                      " WHERE c.openid = wechat_windows.openid)")


def _choices(options: str | None) -> Choices:
    return [(label, data) for label, data in json.loads(options)] if options else []


async def take_window_slot(conn: Connection, openid: str, now: datetime) -> WindowCheck:
    """Use one customer-service push if the window allows it; never more than WeChat permits."""
    row = await fetch_one(
        conn, "SELECT message_at, message_sent, tap_at, tap_sent FROM wechat_windows WHERE openid = ?",
        (openid,),
    )
    if row is None:
        return WindowCheck(False, "no message from this follower yet")
    message_at, message_sent, tap_at, tap_sent = row
    if message_at and now - parse_stamp(message_at) <= MESSAGE_WINDOW and message_sent < MESSAGE_QUOTA:
        await write(conn, "UPDATE wechat_windows SET message_sent = message_sent + 1 WHERE openid = ?",
                    (openid,))
        return WindowCheck(True, used=Interaction.MESSAGE)
    if tap_at and now - parse_stamp(tap_at) <= TAP_WINDOW and tap_sent < TAP_QUOTA:
        await write(conn, "UPDATE wechat_windows SET tap_sent = tap_sent + 1 WHERE openid = ?", (openid,))
        return WindowCheck(True, used=Interaction.TAP)
    if message_at and now - parse_stamp(message_at) <= MESSAGE_WINDOW:
        return WindowCheck(False, f"window quota used ({MESSAGE_QUOTA} pushes since the last message)")
    return WindowCheck(False, "window closed (no message within 48 h)")


async def give_back_window_slot(conn: Connection, openid: str, used: Interaction) -> None:
    """A push WeChat refused (or never received) did not use up one of the follower's slots."""
    await conn.execute(_GIVE_BACK[used], (openid,))


async def close_window(conn: Connection, openid: str) -> None:
    """WeChat said the window is closed (45015/45047): believe it until the next message."""
    await conn.execute(
        "UPDATE wechat_windows SET message_sent = ?, tap_sent = ? WHERE openid = ?",
        (MESSAGE_QUOTA, TAP_QUOTA, openid),
    )


async def save_choices(conn: Connection, openid: str, options: list[tuple[str, str]],
                       now: datetime) -> None:
    """The numbered list just shown; the next "1", "2" ... refer to it."""
    if not options:
        return
    await write(
        conn,
        "INSERT INTO wechat_choices (openid, options, shown_at) VALUES (?, ?, ?)"
        " ON CONFLICT (openid) DO UPDATE SET options = excluded.options, shown_at = excluded.shown_at",
        (openid, json.dumps(options, ensure_ascii=False), stamp(now)),
    )


async def last_choices(conn: Connection, openid: str) -> Choices:
    row = await fetch_one(conn, "SELECT options FROM wechat_choices WHERE openid = ?", (openid,))
    return _choices(row[0] if row else None)


async def add_menu_items(conn: Connection, openid: str, data: list[str], now: datetime) -> list[int]:
    """Ids for msgmenu items: a tap comes back as text with bizmsgmenuid = one of these."""
    ids = []
    for value in data:
        made = await insert_id(
            conn, "INSERT INTO wechat_menu_items (openid, data, created_at) VALUES (?, ?, ?) RETURNING id",
            (openid, value, stamp(now)),
        )
        ids.append(int(made or 0))
    await conn.execute(
        "DELETE FROM wechat_menu_items WHERE openid = ? AND id <= ("
        " SELECT id FROM wechat_menu_items WHERE openid = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (openid, openid, MENU_ITEMS_KEPT),
    )
    return ids


async def menu_item(conn: Connection, openid: str, item_id: int) -> str | None:
    """The button data of a tapped msgmenu item, only if it was sent to this follower."""
    row = await fetch_one(conn, "SELECT data FROM wechat_menu_items WHERE id = ? AND openid = ?", (item_id, openid))
    return str(row[0]) if row else None
