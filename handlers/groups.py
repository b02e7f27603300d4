"""Binding a Telegram group to a community or grid, so announcements reach it (admins only)."""

from __future__ import annotations

from bot.config import Role
from handlers.context import Context
from storage import groups


def _is_admin(ctx: Context) -> bool:
    return ctx.person is not None and ctx.person.role == Role.ADMIN


def _area(ctx: Context, arg: str) -> tuple[str | None, str | None, str] | None:
    """(community id, grid id, name) for "longchi", "龙池社区" or "G07"; None if unknown."""
    config = ctx.services.config
    wanted = arg.strip()
    grid = config.grid(wanted.upper())
    if grid is not None:
        return grid.community, grid.id, grid.name
    community = next((c for c in config.communities if wanted in (c.id, c.name)), None)
    if community is not None:
        return community.id, None, community.name
    return None


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
    await groups.bind_group(ctx.conn, ctx.incoming.channel, ctx.incoming.chat_id, ctx.incoming.chat_title,
                            community_id, grid_id, ctx.person.id, ctx.now)
    ctx.say(ctx.t("bindgroup_done", name=name))


async def unbind_group(ctx: Context) -> None:
    if not _is_admin(ctx):
        ctx.say(ctx.t("bindgroup_admins_only"))
        return
    removed = await groups.unbind_group(ctx.conn, ctx.incoming.channel, ctx.incoming.chat_id)
    ctx.say(ctx.t("unbindgroup_done" if removed else "unbindgroup_none"))
