"""Admins schedule announcements in chat: text → groups → when → sign-up → preview → confirm."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handlers.broadcast import area_targets
from handlers.context import Context
from handlers.dialog_state import begin_side_flow, end_dialog
from handlers.domain.model import Config, Role
from handlers.domain.schedule_rules import NOW_WORDS, RuleError, When, parse_when
from handlers.formatting import clip, local_time
from storage import announcements as store
from storage.announcements import NewAnnouncement, TargetKind
from storage.clock import parse_stamp, stamp
from storage.dialogs import Dialog, save_dialog

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
        previous = STEPS[index - 1] if index > 0 else step
        if previous == "signup" and data.get("cron"):
            previous = "when"  # a repeating announcement has no sign-up step
        await _go(ctx, previous, data)
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


def resolve_target(config: Config, text: str) -> tuple[str, str] | None:
    """("all", ""), ("community", id) or ("grid", id) from what an admin typed: an id or a name."""
    wanted = text.strip()
    if wanted.lower() in ("all", "全部", "全部群"):
        return TargetKind.ALL.value, ""
    grid = config.grid(wanted.upper()) or next((g for g in config.grids if g.name == wanted), None)
    if grid is not None:
        return TargetKind.GRID.value, grid.id
    community = next((c for c in config.communities if wanted in (c.id, c.name)), None)
    return (TargetKind.COMMUNITY.value, community.id) if community else None


async def _on_target(ctx: Context, data: dict) -> None:
    button = ctx.incoming.button
    if button == "an:t:all":
        target: tuple[str, str] | None = (TargetKind.ALL.value, "")
    elif button.startswith("an:t:c:") and ctx.services.config.community(button.removeprefix("an:t:c:")):
        target = (TargetKind.COMMUNITY.value, button.removeprefix("an:t:c:"))
    else:
        target = resolve_target(ctx.services.config, ctx.incoming.text) if ctx.incoming.text else None
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
    if when.repeating:
        # One sign-up list for a post that repeats every week would be closed after the first
        # activity while the posts still invite people: repeating posts carry no sign-up.
        data.update(capacity=None, starts_at=None)
        await _go(ctx, "preview", data)
        return
    await _go(ctx, "signup", data)


async def _on_signup(ctx: Context, data: dict) -> None:
    if ctx.incoming.button == "an:s:none":
        data.update(capacity=None, starts_at=None)
        await _go(ctx, "preview", data)
        return
    signup = parse_signup(ctx.incoming.text, ctx.now, ctx.services.timezone, parse_stamp(data["first_run_at"]))
    if signup is None:
        ctx.say(ctx.t("announce_signup_invalid"), (ctx.t("announce_no_signup"), "an:s:none"), _back(ctx),
                _cancel(ctx))
        return
    data.update(capacity=signup[0], starts_at=stamp(signup[1]))
    await _go(ctx, "preview", data)


def parse_signup(text: str, now: datetime, timezone: str, posted_at: datetime) -> tuple[int, datetime] | None:
    """(capacity, activity start) from 「30 12-06 09:00」; the activity must start after the post."""
    found = SIGNUP_RULE.match(text.strip())
    if found is None or int(found[1]) <= 0:
        return None
    try:
        starts = parse_when(found[2], now, timezone).first_run_at
    except RuleError:
        return None
    return (int(found[1]), starts) if starts > posted_at else None


async def _on_preview(ctx: Context, data: dict) -> None:
    if ctx.incoming.button != "an:ok":
        _prompt(ctx, "preview", data)
        return
    assert ctx.person is not None
    # Read the time again: 「立即」 means now, and a time that passed while the admin looked at
    # the preview would only be reported as missed.
    when = When(parse_stamp(data["first_run_at"]), data["cron"])
    if when.repeating or data["rule"] in NOW_WORDS:
        when = parse_when(data["rule"], ctx.now, ctx.services.timezone)
    elif when.first_run_at <= ctx.now:  # not moved silently to another day: the admin chooses
        ctx.say(ctx.t("announce_when_passed"))
        await _go(ctx, "when", data)
        return
    starts = parse_stamp(data["starts_at"]) if data.get("starts_at") else None
    if starts is not None and starts <= when.first_run_at:
        ctx.say(ctx.t("announce_signup_invalid"))
        await _go(ctx, "signup", data)
        return
    new = new_announcement(ctx.services.config, data["text"], (data["kind"], data["target"]), when,
                           ctx.person.id, "chat", (data["capacity"], starts) if starts else None)
    announcement_id = await store.create(ctx.conn, new, ctx.now)
    ctx.outcome.schedule_changed = True
    await end_dialog(ctx)
    groups = await area_targets(ctx.conn, ctx.services.config, new.target_kind, new.target_id)
    ctx.say(ctx.t("announce_scheduled", id=announcement_id, groups=len(groups),
                  when=local_time(new.first_run_at, ctx.services.timezone)),
            (ctx.t("announce_list_button"), "an:list"))


def new_announcement(config: Config, text: str, target: tuple[str, str], when: When, created_by: str,
                     source: str, signup: tuple[int, datetime] | None) -> NewAnnouncement:
    """An announcement as stored; with a sign-up, it closes and reminds relative to the start."""
    settings = config.scheduler
    capacity, starts = signup if signup else (None, None)
    return NewAnnouncement(
        text=text, target_kind=TargetKind(target[0]), target_id=target[1], cron=when.cron,
        first_run_at=when.first_run_at, created_by=created_by, source=source, capacity=capacity,
        starts_at=starts,
        signup_closes_at=starts - timedelta(minutes=settings.signup_closes_minutes) if starts else None,
        remind_at=starts - timedelta(minutes=settings.reminder_minutes) if starts else None,
    )


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
