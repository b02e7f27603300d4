"""Binding a Telegram group to a community or grid, so announcements reach it (admins only)."""

from __future__ import annotations

import logging

from handlers.announce import resolve_target
from handlers.broadcast import admin_notices
from handlers.context import Context
from handlers.domain.model import Role
from handlers.rendering import display_name
from handlers.types import MembershipChange
from storage import groups
from storage.announcements import TargetKind

log = logging.getLogger(__name__)


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
