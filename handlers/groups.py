"""Binding a Telegram group to a community or grid, so announcements reach it (admins only)."""

from __future__ import annotations

from handlers.announce import resolve_target
from handlers.context import Context
from handlers.domain.model import Role
from handlers.rendering import display_name
from storage import groups
from storage.announcements import TargetKind


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
