"""A ticket's history as each side may read it: one table per audience, one row per kind of event.

The resident (我的工单 → a ticket) sees the steps taken for her: never the bot's internal rows
(「已通知」 once per card, who could not be reached, deadline warnings), never a 转派 reason or
anything staff wrote for staff, and no staff names (her notices tell her who acknowledged it).
She sees the 办结 note (it was sent to her), what she added, and which rating she gave.

Staff at the level a ticket reaches after 不满意 (or a later 吹哨) read its history on the card:
the previous 办结 note, the resident's reason and what she added, so they know what went wrong.

A kind of event missing from a table is a bug: `tests/unit/test_timeline.py` checks both cover
every EventAction, so a new kind must be decided here before it can be shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from handlers.context import Context
from handlers.formatting import local_time
from handlers.rendering import resident_text
from storage.tickets import EventAction, Rating, TicketEvent

RATING_KEYS = {Rating.SATISFIED: "rate_satisfied", Rating.MOSTLY: "rate_mostly",
               Rating.UNSATISFIED: "rate_unsatisfied"}
RESIDENT_NOTE = 60  # characters of a note in the resident's history
STAFF_NOTE = 120
STAFF_LINES = 12  # the newest lines of the history on a card


class Detail(StrEnum):
    """What a line says after the kind of step."""

    NONE = "none"
    NOTE = "note"  # the event's note, quoted
    RATING = "rating"  # which rating, and the reason given with 不满意
    GRID = "grid"  # the grid it went to (a resident is told that much, not why)
    GRID_REASON = "grid_reason"  # the grid and the 转派 reason (staff only)


@dataclass(frozen=True)
class Shown:
    label: str  # the text key of the step
    detail: Detail = Detail.NONE


RESIDENT_VIEW: Mapping[EventAction, Shown | None] = {
    EventAction.CREATED: Shown("event_created"),
    EventAction.ROUTED: Shown("event_routed"),
    EventAction.NOTIFIED: None,  # one row per card sent: 「已通知」 ×3 tells her nothing
    EventAction.UNREACHABLE: None,  # who could not be reached is the bot's business
    EventAction.ACKNOWLEDGED: Shown("event_acknowledged"),  # by whom: her notice said so
    EventAction.RESOLVED: Shown("event_resolved", Detail.NOTE),  # the note was written to her
    EventAction.REASSIGNED: Shown("event_reassigned", Detail.GRID),  # the reason is for staff
    EventAction.RATED: Shown("event_rated", Detail.RATING),
    EventAction.REOPENED: Shown("event_reopened"),
    EventAction.CLOSED: Shown("event_closed"),
    EventAction.CANCELLED: Shown("event_cancelled"),
    EventAction.INFO_ADDED: Shown("event_info_added", Detail.NOTE),  # her own words
    EventAction.PHOTO_ADDED: Shown("event_photo_added"),
    EventAction.VOICE_ADDED: Shown("event_voice_added"),
    EventAction.FOLLOWER_ADDED: Shown("event_follower_added"),  # a count of neighbours, no one named
    EventAction.REFUSED: None,
    EventAction.WARNED: None,  # 预警提醒 goes to staff only
    EventAction.ESCALATED: Shown("event_escalated"),  # she is told of each 吹哨
    EventAction.OVERDUE: None,  # an admins' notice
}

STAFF_VIEW: Mapping[EventAction, Shown | None] = {
    EventAction.CREATED: Shown("event_created"),
    EventAction.ROUTED: None,  # the card itself says where it is
    EventAction.NOTIFIED: None,
    EventAction.UNREACHABLE: Shown("event_unreachable"),
    EventAction.ACKNOWLEDGED: Shown("event_acknowledged"),
    EventAction.RESOLVED: Shown("event_resolved", Detail.NOTE),
    EventAction.REASSIGNED: Shown("event_reassigned", Detail.GRID_REASON),
    EventAction.RATED: Shown("event_rated", Detail.RATING),
    EventAction.REOPENED: Shown("event_reopened"),
    EventAction.CLOSED: Shown("event_closed"),
    EventAction.CANCELLED: Shown("event_cancelled"),
    EventAction.INFO_ADDED: Shown("event_info_added", Detail.NOTE),
    EventAction.PHOTO_ADDED: Shown("event_photo_added"),
    EventAction.VOICE_ADDED: Shown("event_voice_added"),
    EventAction.FOLLOWER_ADDED: Shown("event_follower_added"),
    EventAction.REFUSED: None,
    EventAction.WARNED: None,
    EventAction.ESCALATED: Shown("event_escalated"),
    EventAction.OVERDUE: None,
}


def _detail(ctx: Context, event: TicketEvent, detail: Detail, limit: int) -> str:
    note = resident_text(event.note, limit) if event.note else ""
    if detail is Detail.NOTE:
        return ctx.t("history_note", note=note) if note else ""
    if detail is Detail.RATING:
        try:
            rating = ctx.t(RATING_KEYS[Rating(event.data.get("rating"))])
        except (KeyError, ValueError):
            return ""
        return ctx.t("history_rating_reason", rating=rating, reason=note) if note else \
            ctx.t("history_note", note=rating)
    if detail in (Detail.GRID, Detail.GRID_REASON):
        grid = ctx.services.config.grid(str(event.data.get("to", "")))
        text = ctx.t("history_grid", grid=grid.name) if grid else ""
        if detail is Detail.GRID_REASON and note:
            text += ctx.t("history_reason", reason=note)
        return text
    return ""


def _lines(ctx: Context, events: list[TicketEvent], view: Mapping[EventAction, Shown | None],
           limit: int) -> list[str]:
    tz = ctx.services.timezone
    lines = []
    for event in events:
        try:
            shown = view[EventAction(event.action)]
        except (KeyError, ValueError):
            shown = None  # a kind this version does not know is not shown
        if shown is None:
            continue
        lines.append(ctx.t("history_line", at=local_time(event.at, tz), action=ctx.t(shown.label),
                           note=_detail(ctx, event, shown.detail, limit)))
    return lines


def resident_history(ctx: Context, events: list[TicketEvent]) -> str:
    """The ticket's history as its reporter reads it in 我的工单."""
    return "\n".join(_lines(ctx, events, RESIDENT_VIEW, RESIDENT_NOTE))


def staff_history(ctx: Context, events: list[TicketEvent]) -> str:
    """The ticket's history for the staff a card goes to: its newest STAFF_LINES steps."""
    return "\n".join(_lines(ctx, events, STAFF_VIEW, STAFF_NOTE)[-STAFF_LINES:])
