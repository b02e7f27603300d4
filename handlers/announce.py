"""Admins schedule announcements in chat: text → groups → when → sign-up → preview → confirm."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from handlers.broadcast import reach, reach_text
from handlers.button_codec import Button
from handlers.buttons import (
    BACK,
    CANCEL,
    AnnouncementsAction,
    AnnouncementsButton,
    AnnounceNow,
    AnnounceToAll,
    AnnounceToCommunity,
    ConfirmAnnouncement,
    NoSignup,
)
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog, save
from handlers.domain.model import Config, Grid, Role
from handlers.domain.schedule_rules import NOW_WORDS, RuleError, When, parse_when
from handlers.domain.spoken_time import Problem
from handlers.flow_states import AnnounceState, Flow
from handlers.formatting import day_time, local_time
from handlers.paging import Item, page_note, page_options, page_turn, refuse_page
from storage import announcements as store
from storage.announcements import NewAnnouncement, TargetKind

FLOW = Flow.ANNOUNCE
MAX_TEXT = 1500
STEPS = ("text", "target", "when", "signup", "preview")
SIGNUP_RULE = re.compile(r"^(\d{1,5})\s*人?\s+(.+)$")


def is_admin(ctx: Context) -> bool:
    return ctx.person is not None and ctx.person.role == Role.ADMIN


def _back(ctx: Context) -> tuple[str, Button]:
    return (ctx.t("back"), BACK)


def _cancel(ctx: Context) -> tuple[str, Button]:
    return (ctx.t("cancel"), CANCEL)


async def start(ctx: Context) -> None:
    if not is_admin(ctx):
        ctx.say(ctx.t("announce_admins_only"))
        return
    await begin_side_flow(ctx, FLOW, "text", AnnounceState())
    await _prompt(ctx, "text", AnnounceState())


async def _prompt(ctx: Context, step: str, state: AnnounceState) -> None:
    if step == "text":
        ctx.say(ctx.t("announce_ask_text"), _cancel(ctx))
    elif step == "target":
        targets = _targets(ctx)
        ctx.say(ctx.t("announce_ask_target") + page_note(ctx, state.page, len(targets)),
                *page_options(ctx, targets, state.page), _back(ctx), _cancel(ctx))
    elif step == "when":
        ctx.say(ctx.t("announce_ask_when"), (ctx.t("announce_now"), AnnounceNow()), _back(ctx), _cancel(ctx))
    elif step == "signup":
        ctx.say(ctx.t("announce_ask_signup"), (ctx.t("announce_no_signup"), NoSignup()), _back(ctx),
                _cancel(ctx))
    else:
        ctx.say(await _preview(ctx, state), (ctx.t("announce_confirm"), ConfirmAnnouncement()), _back(ctx), _cancel(ctx))


def _targets(ctx: Context) -> list[Item]:
    """全部群, then each community: nine a page with 更多 / 上一页 when a subdistrict has many."""
    return [(ctx.t("announce_all_groups"), AnnounceToAll()),
            *[(c.name, AnnounceToCommunity(c.id)) for c in ctx.services.config.communities]]


def _target_name(ctx: Context, kind: TargetKind | None, target_id: str) -> str:
    config = ctx.services.config
    if kind == TargetKind.COMMUNITY:
        community = config.community(target_id)
        return community.name if community else target_id
    if kind == TargetKind.GRID:
        grid = config.grid(target_id)
        return grid.name if grid else target_id
    return ctx.t("announce_all_groups")


async def _preview(ctx: Context, state: AnnounceState) -> str:
    tz = ctx.services.timezone
    assert state.first_run_at is not None
    when = local_time(state.first_run_at, tz)
    schedule = ctx.t("announce_repeats", rule=state.rule, first=when) if state.cron else when
    signup = ctx.t("announce_no_signup")
    if state.capacity and state.starts_at:
        signup = ctx.t("announce_signup_summary", capacity=state.capacity, starts=local_time(state.starts_at, tz))
    assert state.kind is not None
    found = await reach(ctx.conn, ctx.services, state.kind.value, state.target)
    return ctx.t("announce_preview", text=state.text, target=_target_name(ctx, state.kind, state.target),
                 schedule=schedule, signup=signup, reach=reach_text(ctx.services, found, state.target))


async def _go(ctx: Context, dialog: OpenDialog, step: str, state: AnnounceState) -> None:
    await save(ctx, replace(dialog, step=step, state=state))  # a carried report draft stays
    await _prompt(ctx, step, state)


async def handle(ctx: Context, dialog: OpenDialog) -> None:
    step, state = dialog.step, dialog.state
    assert isinstance(state, AnnounceState)
    if not is_admin(ctx):  # bindings can change while a dialog is open
        await end_dialog(ctx)
        ctx.say(ctx.t("announce_admins_only"))
        return
    if ctx.pressed == BACK:
        index = STEPS.index(step)
        previous = STEPS[index - 1] if index > 0 else step
        if previous == "signup" and state.cron:
            previous = "when"  # a repeating announcement has no sign-up step
        await _go(ctx, dialog, previous, state)
        return
    handler = {"text": _on_text, "target": _on_target, "when": _on_when, "signup": _on_signup,
               "preview": _on_preview}[step]
    await handler(ctx, dialog, state)


async def _on_text(ctx: Context, dialog: OpenDialog, state: AnnounceState) -> None:
    text = ctx.incoming.text.strip()
    if not text or len(text) > MAX_TEXT:
        ctx.say(ctx.t("announce_text_invalid", limit=MAX_TEXT), _cancel(ctx))
        return
    await _go(ctx, dialog, "target", replace(state, text=text))


def resolve_target(config: Config, text: str) -> tuple[str, str] | None:
    """("all", ""), ("community", id) or ("grid", id) from what an admin typed: an id or a name."""
    wanted = text.strip()
    if wanted.lower() in ("all", "全部", "全部群"):
        return TargetKind.ALL.value, ""
    grid = (config.grid(wanted.upper()) or next((g for g in config.grids if g.name == wanted), None)
            or _grid_by_number(config, wanted))
    if grid is not None:
        return TargetKind.GRID.value, grid.id
    community = next((c for c in config.communities if wanted in (c.id, c.name)), None)
    return (TargetKind.COMMUNITY.value, community.id) if community else None


def _grid_by_number(config: Config, wanted: str) -> Grid | None:
    """「G1」 or 「g01」 for the grid G01: the number is what people read off a list."""
    found = re.fullmatch(r"[Gg]\s*0*(\d{1,4})", wanted)
    return next((g for g in config.grids if found and re.fullmatch(rf"G0*{found[1]}", g.id)), None)


async def _on_target(ctx: Context, dialog: OpenDialog, state: AnnounceState) -> None:
    turn = page_turn(ctx, state.page, len(_targets(ctx)))
    if turn is not None:  # 更多 / 上一页; a page that does not exist is refused politely
        refuse_page(ctx, turn)
        await _go(ctx, dialog, "target", replace(state, page=turn.page))
        return
    button = ctx.pressed
    if button == AnnounceToAll():
        target: tuple[str, str] | None = (TargetKind.ALL.value, "")
    elif isinstance(button, AnnounceToCommunity) and ctx.services.config.community(button.community_id):
        target = (TargetKind.COMMUNITY.value, button.community_id)
    else:
        target = resolve_target(ctx.services.config, ctx.incoming.text) if ctx.incoming.text else None
    if target is None:
        ctx.say(ctx.t("announce_target_invalid"))
        await _prompt(ctx, "target", state)
        return
    await _go(ctx, dialog, "when", replace(state, kind=TargetKind(target[0]), target=target[1]))


async def _on_when(ctx: Context, dialog: OpenDialog, state: AnnounceState) -> None:
    rule = "立即" if ctx.pressed == AnnounceNow() else ctx.incoming.text.strip()
    try:
        when = parse_when(rule, ctx.now, ctx.services.timezone)
    except RuleError as refused:
        ctx.say(when_refusal(ctx, refused), (ctx.t("announce_now"), AnnounceNow()), _back(ctx), _cancel(ctx))
        return
    state = replace(state, first_run_at=when.first_run_at, cron=when.cron, rule=rule)
    if when.repeating:
        # One sign-up list for a post that repeats every week would be closed after the first
        # activity while the posts still invite people: repeating posts carry no sign-up.
        await _go(ctx, dialog, "preview", replace(state, capacity=None, starts_at=None))
        return
    await _go(ctx, dialog, "signup", state)


def when_refusal(ctx: Context, refused: RuleError) -> str:
    """Why a typed time was not taken: passed, 上午还是下午, no hour, or not read at all."""
    key = {Problem.PAST: "announce_when_past", Problem.AMBIGUOUS: "announce_when_ambiguous",
           Problem.NO_TIME: "announce_when_no_time"}.get(refused.problem, "announce_when_invalid")
    return ctx.t(key, now=day_time(ctx.now, ctx.services.timezone))


async def _on_signup(ctx: Context, dialog: OpenDialog, state: AnnounceState) -> None:
    if ctx.pressed == NoSignup():
        await _go(ctx, dialog, "preview", replace(state, capacity=None, starts_at=None))
        return
    assert state.first_run_at is not None
    signup = parse_signup(ctx.incoming.text, ctx.now, ctx.services.timezone, state.first_run_at)
    if signup is None:
        ctx.say(ctx.t("announce_signup_invalid"), (ctx.t("announce_no_signup"), NoSignup()), _back(ctx),
                _cancel(ctx))
        return
    await _go(ctx, dialog, "preview", replace(state, capacity=signup[0], starts_at=signup[1]))


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


async def _on_preview(ctx: Context, dialog: OpenDialog, state: AnnounceState) -> None:
    if ctx.pressed != ConfirmAnnouncement():
        await _prompt(ctx, "preview", state)
        return
    assert ctx.person is not None and state.first_run_at is not None and state.kind is not None
    # Read the time again: 「立即」 means now, and a time that passed while the admin looked at
    # the preview would only be reported as missed.
    when = When(state.first_run_at, state.cron)
    if when.repeating or state.rule in NOW_WORDS:
        when = parse_when(state.rule, ctx.now, ctx.services.timezone)
    elif when.first_run_at <= ctx.now:  # not moved silently to another day: the admin chooses
        ctx.say(ctx.t("announce_when_passed"))
        await _go(ctx, dialog, "when", state)
        return
    starts = state.starts_at
    if starts is not None and starts <= when.first_run_at:
        ctx.say(ctx.t("announce_signup_invalid"))
        await _go(ctx, dialog, "signup", state)
        return
    new = new_announcement(ctx.services.config, state.text, (state.kind.value, state.target), when,
                           ctx.person.id, "chat", (state.capacity, starts) if starts and state.capacity else None)
    announcement_id = await store.create(ctx.conn, new, ctx.now)
    ctx.outcome.schedule_changed = True
    await end_dialog(ctx)
    found = await reach(ctx.conn, ctx.services, new.target_kind.value, new.target_id)
    ctx.say(ctx.t("announce_scheduled", id=announcement_id, reach=reach_text(ctx.services, found, new.target_id),
                  when=local_time(new.first_run_at, ctx.services.timezone)),
            (ctx.t("announce_list_button"), AnnouncementsButton(AnnouncementsAction.LIST)))


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
