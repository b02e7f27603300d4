"""Binding a Telegram group to a community or grid, so announcements reach it (admins only)."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from handlers.announce import resolve_target
from handlers.broadcast import admin_notices
from handlers.context import Context
from handlers.domain.model import Role
from handlers.formatting import day_time
from handlers.rendering import display_name
from handlers.types import MembershipChange
from storage import groups
from storage.announcements import TargetKind

log = logging.getLogger(__name__)
CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and retyped
CODE = re.compile(rf"[{CODE_LETTERS}]{{4}}-[{CODE_LETTERS}]{{4}}")
CODE_VALID = timedelta(hours=24)
TYPED_CODE_REQUEST = re.compile(r"绑群码\s*(\S*)")


def _is_admin(ctx: Context) -> bool:
    return ctx.person is not None and ctx.person.role == Role.ADMIN


def _area(ctx: Context, arg: str) -> tuple[str | None, str | None, str] | None:
    """(community id, grid id, name) for "longchi", "龙池社区", "G07" or a grid's name; None if unknown."""
    found = resolve_target(ctx.services.config, arg)
    if found is None or found[0] == TargetKind.ALL:
        return None
    config = ctx.services.config
    if found[0] == TargetKind.GRID:
        grid = config.grid(found[1])
        assert grid is not None
        return grid.community, grid.id, grid.name
    community = config.community(found[1])
    assert community is not None
    return community.id, None, community.name


async def bind_group(ctx: Context) -> None:
    """/bindgroup longchi (a bound admin, in the group), or /bindgroup CODE (anyone, with a code an
    admin asked for in any chat: WeChat and console admins bind Telegram groups this way)."""
    code = ctx.incoming.command_arg.strip().upper()
    if CODE.fullmatch(code):
        await _bind_with_code(ctx, code)
        return
    if not _is_admin(ctx):
        ctx.say(ctx.t("bindgroup_admins_only"))
        return
    area = _area(ctx, ctx.incoming.command_arg)
    if area is None:
        ctx.say(ctx.t("bindgroup_usage"))
        return
    community_id, grid_id, name = area
    assert ctx.person is not None
    await groups.bind_group(ctx.conn, ctx.incoming.channel, ctx.incoming.chat_id, display_name(ctx.incoming.chat_title),
                            community_id, grid_id, ctx.person.id, ctx.now)
    ctx.say(ctx.t("bindgroup_done", name=name))


async def _bind_with_code(ctx: Context, code: str) -> None:
    found = await groups.use_bind_code(ctx.conn, code, ctx.incoming.channel, ctx.incoming.chat_id, ctx.now)
    config = ctx.services.config
    grid = config.grid(found.grid_id) if found and found.grid_id else None
    community = config.community(found.community_id) if found else None
    if found is None or community is None:
        ctx.say(ctx.t("group_code_invalid"))
        return
    await groups.bind_group(ctx.conn, ctx.incoming.channel, ctx.incoming.chat_id,
                            display_name(ctx.incoming.chat_title), community.id, grid.id if grid else None,
                            found.created_by, ctx.now)
    log.info("group %s bound with a one-time code", ctx.incoming.chat_id)
    ctx.say(ctx.t("bindgroup_done", name=grid.name if grid else community.name))


async def group_code(ctx: Context, arg: str) -> None:
    """「绑群码 longchi」 in a private chat (any channel): a one-time code for a group of that area."""
    if not _is_admin(ctx):
        ctx.say(ctx.t("bindgroup_admins_only"))
        return
    area = _area(ctx, arg) if arg.strip() else None
    if area is None:
        ctx.say(ctx.t("group_code_usage"))
        return
    assert ctx.person is not None
    community_id, grid_id, name = area
    assert community_id is not None
    code = "-".join("".join(secrets.choice(CODE_LETTERS) for _ in range(4)) for _ in range(2))
    expires = ctx.now + CODE_VALID
    await groups.create_bind_code(ctx.conn, code, community_id, grid_id, ctx.person.id, ctx.now, expires)
    ctx.say(ctx.t("group_code_done", code=code, name=name, expires=day_time(expires, ctx.services.timezone)))


async def unbind_group(ctx: Context) -> None:
    if not _is_admin(ctx):
        ctx.say(ctx.t("bindgroup_admins_only"))
        return
    removed = await groups.unbind_group(ctx.conn, ctx.incoming.channel, ctx.incoming.chat_id)
    ctx.say(ctx.t("unbindgroup_done" if removed else "unbindgroup_none"))


async def membership_changed(ctx: Context) -> None:
    """The bot was added to a group (greet it with how an admin binds it) or removed from one
    (unbind it at once and tell the admins: no failed post needed to find out)."""
    incoming = ctx.incoming
    joined = incoming.membership is MembershipChange.JOINED
    status = groups.Membership.MEMBER if joined else groups.Membership.LEFT
    changed = await groups.record_membership(ctx.conn, incoming.channel, incoming.chat_id, incoming.chat_title,
                                             status, incoming.user_id, ctx.now)
    log.info("bot %s group %s (%s)", "added to" if joined else "removed from", incoming.chat_id, incoming.channel)
    if joined:
        if changed:
            ctx.say(ctx.t("group_welcome"))
        return
    target = await groups.get_target(ctx.conn, incoming.channel, incoming.chat_id)
    if target is None or not await groups.disable_group(ctx.conn, incoming.channel, incoming.chat_id,
                                                        "bot removed from the group", ctx.now):
        return
    notes = await admin_notices(ctx.conn, ctx.t("group_removed", title=target.title or incoming.chat_id))
    ctx.outcome.notifications.extend(notes)
