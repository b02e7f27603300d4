"""Neighbourhood groups the bot posts announcements to: Telegram groups and WeCom robots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection, Row


class TargetStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # the bot was removed, or the robot has no key


@dataclass(frozen=True)
class GroupTarget:
    id: int
    channel: str
    chat_id: str
    title: str
    community_id: str | None
    grid_id: str | None
    status: TargetStatus
    disabled_reason: str


_COLUMNS = "id, channel, chat_id, title, community_id, grid_id, status, disabled_reason"


def _target(row: Row) -> GroupTarget:
    return GroupTarget(row[0], row[1], row[2], row[3], row[4], row[5], TargetStatus(row[6]), row[7])


async def bind_group(conn: Connection, channel: str, chat_id: str, title: str,
                     community_id: str | None, grid_id: str | None, bound_by: str, now: datetime) -> None:
    """Bind (or re-bind) a group to a community or a grid; a re-bound group is active again."""
    await conn.execute(
        "INSERT INTO group_targets (channel, chat_id, title, community_id, grid_id, status, bound_by,"
        " updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)"
        " ON CONFLICT (channel, chat_id) DO UPDATE SET title = excluded.title,"
        " community_id = excluded.community_id, grid_id = excluded.grid_id, status = 'active',"
        " disabled_reason = '', bound_by = excluded.bound_by, updated_at = excluded.updated_at",
        (channel, chat_id, title, community_id, grid_id, bound_by, stamp(now)),
    )


class Membership(StrEnum):
    MEMBER = "member"
    LEFT = "left"


async def record_membership(conn: Connection, channel: str, chat_id: str, title: str,
                            status: Membership, changed_by: str, now: datetime) -> bool:
    """The bot was added to or removed from a group; False if that was already recorded."""
    cursor = await conn.execute(
        "INSERT INTO chat_memberships (channel, chat_id, title, status, changed_by, changed_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, chat_id) DO UPDATE SET"
        " title = excluded.title, status = excluded.status, changed_by = excluded.changed_by,"
        " changed_at = excluded.changed_at WHERE chat_memberships.status != excluded.status",
        (channel, chat_id, title, status.value, changed_by, stamp(now)),
    )
    return cursor.rowcount > 0


async def unbind_group(conn: Connection, channel: str, chat_id: str) -> bool:
    cursor = await conn.execute("DELETE FROM group_targets WHERE channel = ? AND chat_id = ?",
                                (channel, chat_id))
    return cursor.rowcount > 0


async def get_target(conn: Connection, channel: str, chat_id: str) -> GroupTarget | None:
    row = await fetch_one(
        conn, f"SELECT {_COLUMNS} FROM group_targets WHERE channel = ? AND chat_id = ?",
        (channel, chat_id)
    )
    return _target(row) if row else None


async def all_targets(conn: Connection) -> list[GroupTarget]:
    return [_target(row) for row in await fetch_all(conn, f"SELECT {_COLUMNS} FROM group_targets ORDER BY id")]


_SELECT = ("SELECT id, channel, chat_id, title, community_id, grid_id, status, disabled_reason"
           " FROM group_targets WHERE status = 'active'")
_ALL = _SELECT + " ORDER BY id"
_COMMUNITY = _SELECT + " AND community_id = ? ORDER BY id"
_GRID = _SELECT + " AND (grid_id = ? OR (grid_id IS NULL AND community_id = ?)) ORDER BY id"


async def active_targets(conn: Connection, kind: str, target_id: str,
                         grid_community: str | None) -> list[GroupTarget]:
    """Groups an announcement reaches: every group; a community's groups (and its grids'
    groups); or a grid's groups (and its community's groups, which cover the grid too)."""
    if kind == "all":
        query, params = _ALL, ()
    elif kind == "community":
        query, params = _COMMUNITY, (target_id,)
    else:
        query, params = _GRID, (target_id, grid_community or "")
    return [_target(row) for row in await fetch_all(conn, query, params)]


async def move_group(conn: Connection, channel: str, old_chat_id: str, new_chat_id: str,
                     now: datetime) -> None:
    """A Telegram group became a supergroup: its target and its pending rows follow it."""
    await conn.execute(
        "UPDATE group_targets SET chat_id = ?, updated_at = ? WHERE channel = ? AND chat_id = ?",
        (new_chat_id, stamp(now), channel, old_chat_id),
    )
    await conn.execute(
        "UPDATE outbox SET chat_id = ? WHERE channel = ? AND chat_id = ? AND status = 'pending'",
        (new_chat_id, channel, old_chat_id),
    )


async def disable_group(conn: Connection, channel: str, chat_id: str, reason: str,
                        now: datetime) -> bool:
    """True if an active target was disabled now (so admins are told once)."""
    cursor = await conn.execute(
        "UPDATE group_targets SET status = 'disabled', disabled_reason = ?, updated_at = ?"
        " WHERE channel = ? AND chat_id = ? AND status = 'active'",
        (reason[:200], stamp(now), channel, chat_id),
    )
    return cursor.rowcount > 0


async def sync_robots(conn: Connection, robots: list[tuple[str, str, str | None, str | None, bool]],
                      now: datetime) -> None:
    """WeCom robots come from the config: (id, name, community, grid, has_key)."""
    for robot_id, name, community_id, grid_id, has_key in robots:
        await bind_group(conn, "wecom", robot_id, name, community_id, grid_id, "config", now)
        if not has_key:
            await disable_group(conn, "wecom", robot_id, "no webhook key in the environment", now)


_FOLLOWERS_ALL = ("SELECT a.chat_id FROM accounts a WHERE a.channel = 'wechat' AND a.person_id IS NULL"
                  " ORDER BY a.chat_id")
_FOLLOWERS_COMMUNITY = ("SELECT a.chat_id FROM accounts a JOIN residents r ON r.id = a.resident_id"
                        " WHERE a.channel = 'wechat' AND a.person_id IS NULL AND r.community_id = ?"
                        " ORDER BY a.chat_id")
_FOLLOWERS_GRID = ("SELECT a.chat_id FROM accounts a JOIN residents r ON r.id = a.resident_id"
                   " WHERE a.channel = 'wechat' AND a.person_id IS NULL AND r.grid_id = ? ORDER BY a.chat_id")


async def wechat_followers(conn: Connection, kind: str, target_id: str) -> list[str]:
    """Residents' WeChat openids in an announcement's area (by the address they reported from)."""
    if kind == "all":
        query, params = _FOLLOWERS_ALL, ()
    elif kind == "community":
        query, params = _FOLLOWERS_COMMUNITY, (target_id,)
    else:
        query, params = _FOLLOWERS_GRID, (target_id,)
    return [str(row[0]) for row in await fetch_all(conn, query, params)]


@dataclass(frozen=True)
class BindCode:
    community_id: str
    grid_id: str | None
    created_by: str


async def create_bind_code(conn: Connection, code: str, community_id: str, grid_id: str | None,
                           created_by: str, now: datetime, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO group_bind_codes (code, community_id, grid_id, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (code, community_id, grid_id, created_by, stamp(now), stamp(expires_at)),
    )


async def use_bind_code(conn: Connection, code: str, channel: str, chat_id: str,
                        now: datetime) -> BindCode | None:
    """The code's area if it is unused and unexpired, marking it used (once: the UPDATE decides)."""
    row = await fetch_one(
        conn, "SELECT community_id, grid_id, created_by FROM group_bind_codes"
        " WHERE code = ? AND used_at IS NULL AND expires_at > ?", (code, stamp(now)))
    if row is None:
        return None
    cursor = await conn.execute(
        "UPDATE group_bind_codes SET used_at = ?, used_in = ? WHERE code = ? AND used_at IS NULL",
        (stamp(now), f"{channel}:{chat_id}", code))
    return BindCode(row[0], row[1], row[2]) if cursor.rowcount == 1 else None
