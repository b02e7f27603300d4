"""Admins schedule announcements in chat: text → groups → when → sign-up → preview → confirm."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.config import Role
from bot.schedule_rules import RuleError, parse_when
from handlers.context import Context
from handlers.dialog_state import begin_side_flow, end_dialog
from handlers.formatting import clip, local_time
from storage import announcements as store
from storage.announcements import NewAnnouncement, TargetKind
from storage.clock import parse_stamp, stamp
from storage.dialogs import Dialog, save_dialog
from storage.groups import active_targets

FLOW = "announce"
EDIT_FLOW = "announce_edit"
MAX_TEXT = 1500
STEPS = ("text", "target", "when", "signup", "preview")
SIGNUP_RULE = re.compile(r"^(\d{1,5})\s*人?\s+(.+)$")


def is_admin(ctx: Context) -> bool:
    return ctx.person is not None and ctx.person.role == Role.ADMIN


def _back(ctx: Context) -> tuple[str, str]:
    return (ctx.t("back"), "nav:back")


def _cancel(ctx: Context) -> tuple[str, str]:
    return (ctx.t("cancel"), "nav:cancel")


async def start(ctx: Context) -> None:
    if not is_admin(ctx):
        ctx.say(ctx.t("announce_admins_only"))
        return
    await begin_side_flow(ctx, Dialog(FLOW, "text", {}))
    _prompt(ctx, "text", {})


def _prompt(ctx: Context, step: str, data: dict) -> None:
    if step == "text":
        ctx.say(ctx.t("announce_ask_text"), _cancel(ctx))
    elif step == "target":
        communities = [(c.name, f"an:t:c:{c.id}") for c in ctx.services.config.communities]
        ctx.say(ctx.t("announce_ask_target"), (ctx.t("announce_all_groups"), "an:t:all"), *communities,
                _back(ctx), _cancel(ctx))
    elif step == "when":
        ctx.say(ctx.t("announce_ask_when"), (ctx.t("announce_now"), "an:w:now"), _back(ctx), _cancel(ctx))
    elif step == "signup":
        ctx.say(ctx.t("announce_ask_signup"), (ctx.t("announce_no_signup"), "an:s:none"), _back(ctx),
                _cancel(ctx))
    else:
        ctx.say(_preview(ctx, data), (ctx.t("announce_confirm"), "an:ok"), _back(ctx), _cancel(ctx))


def _target_name(ctx: Context, kind: str, target_id: str) -> str:
    config = ctx.services.config
    if kind == TargetKind.COMMUNITY:
        community = config.community(target_id)
        return community.name if community else target_id
    if kind == TargetKind.GRID:
        grid = config.grid(target_id)
        return grid.name if grid else target_id
    return ctx.t("announce_all_groups")


def _preview(ctx: Context, data: dict) -> str:
    tz = ctx.services.timezone
    when = local_time(parse_stamp(data["first_run_at"]), tz)
    schedule = ctx.t("announce_repeats", rule=data["rule"], first=when) if data["cron"] else when
    signup = ctx.t("announce_no_signup")
    if data.get("capacity"):
        signup = ctx.t("announce_signup_summary", capacity=data["capacity"],
                       starts=local_time(parse_stamp(data["starts_at"]), tz))
    return ctx.t("announce_preview", text=data["text"], target=_target_name(ctx, data["kind"], data["target"]),
                 schedule=schedule, signup=signup)


async def _go(ctx: Context, step: str, data: dict) -> None:
    await save_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id, Dialog(FLOW, step, data), ctx.now)
    _prompt(ctx, step, data)


async def handle(ctx: Context, dialog: Dialog) -> None:
    step, data = dialog.step, dict(dialog.data)
    if not is_admin(ctx):  # bindings can change while a dialog is open
        await end_dialog(ctx)
        ctx.say(ctx.t("announce_admins_only"))
        return
    if ctx.incoming.button == "nav:back":
        index = STEPS.index(step)
        await _go(ctx, STEPS[index - 1], data) if index > 0 else _prompt(ctx, step, data)
        return
    handler = {"text": _on_text, "target": _on_target, "when": _on_when, "signup": _on_signup,
               "preview": _on_preview}[step]
    await handler(ctx, data)


async def _on_text(ctx: Context, data: dict) -> None:
    text = ctx.incoming.text.strip()
    if not text or len(text) > MAX_TEXT:
        ctx.say(ctx.t("announce_text_invalid", limit=MAX_TEXT), _cancel(ctx))
        return
    data["text"] = text
    await _go(ctx, "target", data)


def _typed_target(ctx: Context, text: str) -> tuple[str, str] | None:
    config = ctx.services.config
    grid = config.grid(text.strip().upper()) or next((g for g in config.grids if g.name == text.strip()), None)
    if grid is not None:
        return TargetKind.GRID.value, grid.id
    community = next((c for c in config.communities if text.strip() in (c.id, c.name)), None)
    return (TargetKind.COMMUNITY.value, community.id) if community else None


async def _on_target(ctx: Context, data: dict) -> None:
    button = ctx.incoming.button
    if button == "an:t:all":
        target: tuple[str, str] | None = (TargetKind.ALL.value, "")
    elif button.startswith("an:t:c:") and ctx.services.config.community(button.removeprefix("an:t:c:")):
        target = (TargetKind.COMMUNITY.value, button.removeprefix("an:t:c:"))
    else:
        target = _typed_target(ctx, ctx.incoming.text) if ctx.incoming.text else None
    if target is None:
        ctx.say(ctx.t("announce_target_invalid"))
        _prompt(ctx, "target", data)
        return
    data["kind"], data["target"] = target
    await _go(ctx, "when", data)


async def _on_when(ctx: Context, data: dict) -> None:
    rule = "立即" if ctx.incoming.button == "an:w:now" else ctx.incoming.text.strip()
    try:
        when = parse_when(rule, ctx.now, ctx.services.timezone)
    except RuleError:
        ctx.say(ctx.t("announce_when_invalid"), (ctx.t("announce_now"), "an:w:now"), _back(ctx), _cancel(ctx))
        return
    data.update(first_run_at=stamp(when.first_run_at), cron=when.cron, rule=rule)
    await _go(ctx, "signup", data)


async def _on_signup(ctx: Context, data: dict) -> None:
    if ctx.incoming.button == "an:s:none":
        data.update(capacity=None, starts_at=None)
        await _go(ctx, "preview", data)
        return
    found = SIGNUP_RULE.match(ctx.incoming.text.strip())
    starts: datetime | None = None
    if found and int(found[1]) > 0:
        try:
            starts = parse_when(found[2], ctx.now, ctx.services.timezone).first_run_at
        except RuleError:
            starts = None
    if found is None or starts is None or starts <= parse_stamp(data["first_run_at"]):
        ctx.say(ctx.t("announce_signup_invalid"), (ctx.t("announce_no_signup"), "an:s:none"), _back(ctx),
                _cancel(ctx))
        return
    data.update(capacity=int(found[1]), starts_at=stamp(starts))
    await _go(ctx, "preview", data)


async def _on_preview(ctx: Context, data: dict) -> None:
    if ctx.incoming.button != "an:ok":
        _prompt(ctx, "preview", data)
        return
    assert ctx.person is not None
    settings = ctx.services.config.scheduler
    starts = parse_stamp(data["starts_at"]) if data.get("starts_at") else None
    new = NewAnnouncement(
        text=data["text"], target_kind=TargetKind(data["kind"]), target_id=data["target"], cron=data["cron"],
        first_run_at=parse_stamp(data["first_run_at"]), created_by=ctx.person.id, source="chat",
        capacity=data.get("capacity"), starts_at=starts,
        signup_closes_at=starts - timedelta(minutes=settings.signup_closes_minutes) if starts else None,
        remind_at=starts - timedelta(minutes=settings.reminder_minutes) if starts else None,
    )
    announcement_id = await store.create(ctx.conn, new, ctx.now)
    ctx.outcome.schedule_changed = True
    await end_dialog(ctx)
    grid = ctx.services.config.grid(new.target_id)
    groups = await active_targets(ctx.conn, new.target_kind, new.target_id, grid.community if grid else None)
    ctx.say(ctx.t("announce_scheduled", id=announcement_id, groups=len(groups),
                  when=local_time(new.first_run_at, ctx.services.timezone)),
            (ctx.t("announce_list_button"), "an:list"))


async def start_edit(ctx: Context, announcement_id: int) -> None:
    await begin_side_flow(ctx, Dialog(EDIT_FLOW, "text", {"id": announcement_id}))
    ctx.say(ctx.t("announce_ask_new_text", id=announcement_id), _cancel(ctx))


async def handle_edit(ctx: Context, dialog: Dialog) -> None:
    text = ctx.incoming.text.strip()
    if not is_admin(ctx):
        await end_dialog(ctx)
        ctx.say(ctx.t("announce_admins_only"))
        return
    if not text or len(text) > MAX_TEXT:
        ctx.say(ctx.t("announce_text_invalid", limit=MAX_TEXT), _cancel(ctx))
        return
    await store.update_text(ctx.conn, int(dialog.data["id"]), text, ctx.now)
    await end_dialog(ctx)
    ctx.say(ctx.t("announce_edited", id=dialog.data["id"], text=clip(text, 40)))
