"""The weekly digest to subdistrict admins: last week's 三率, overdue tickets, grids to watch."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.broadcast import admin_notices
from handlers.context import Services
from handlers.domain.model import Role
from handlers.domain.schedule_rules import next_fire
from handlers.routing import recipients_of
from handlers.stats import (
    category_hours,
    community_label,
    community_rows,
    duration_text,
    grid_label,
    period_text,
    rate_text,
    rates_lines,
)
from handlers.types import Notification, Reply
from storage import outbox, periods, rate_reads, state, stats
from storage.accounts import people_with_role
from storage.clock import parse_stamp, stamp
from storage.engine import Connection
from storage.stats import SUBDISTRICT, GroupRates, OverdueTicket, Rates

DIGEST_KIND = "digest"
DIGEST_OVERDUE_LISTED = 10
DIGEST_ATTENTION_LISTED = 5


def _overdue_lines(services: Services, overdue: list[OverdueTicket], now: datetime) -> list[str]:
    t = services.texts.t
    if not overdue:
        return [t("digest_overdue_none")]
    lines = [t("digest_overdue_header", count=len(overdue))]
    for ticket in overdue[:DIGEST_OVERDUE_LISTED]:
        lines.append(t("digest_overdue_line", id=ticket.id, grid=grid_label(services, ticket.grid_id),
                       missed=t(f"digest_missed_{ticket.missed}"),
                       late=duration_text(services, ticket.overdue_by(now))))
    if len(overdue) > DIGEST_OVERDUE_LISTED:
        lines.append(t("digest_overdue_more", count=len(overdue) - DIGEST_OVERDUE_LISTED))
    return lines


def attention_grids(grids: list[GroupRates], overdue: list[OverdueTicket]) -> list[tuple[str, int, Rates]]:
    """(grid id, overdue now, last week's rates) of the grids to look at, worst first, at most 5.

    A grid needs attention when it has overdue open tickets now, or missed a response deadline
    on a ticket filed last week. Most overdue first, then the lowest response rate.
    """
    late: dict[str, int] = {}
    for ticket in overdue:
        late[ticket.grid_id] = late.get(ticket.grid_id, 0) + 1
    week = {row.key: row.rates for row in grids}
    candidates = []
    for grid_id in sorted(set(late) | set(week)):
        rates = week.get(grid_id, Rates())
        response = rates.response_rate
        if late.get(grid_id, 0) or (response is not None and response < 1):
            candidates.append((grid_id, late.get(grid_id, 0), rates))
    candidates.sort(key=lambda c: (-c[1], c[2].response_rate if c[2].response_rate is not None else 1.0))
    return candidates[:DIGEST_ATTENTION_LISTED]


def _attention_lines(services: Services, grids: list[GroupRates], overdue: list[OverdueTicket]) -> list[str]:
    t = services.texts.t
    chosen = attention_grids(grids, overdue)
    if not chosen:
        return [t("digest_attention_none")]
    lines = [t("digest_attention_header")]
    for grid_id, late, rates in chosen:
        reasons = []
        if late:
            reasons.append(t("digest_reason_overdue", count=late))
        if rates.response_rate is not None and rates.response_rate < 1:
            reasons.append(t("digest_reason_response",
                             rate=rate_text(services, rates.acknowledged_in_time, rates.response_base)))
        grid = services.config.grid(grid_id)
        community = community_label(services, grid.community) if grid else ""
        lines.append(t("digest_attention_line", grid=grid_label(services, grid_id), community=community,
                       reasons=t("digest_reason_separator").join(reasons)))
    return lines


async def digest_text(conn: Connection, services: Services, now: datetime) -> str:
    """Last week's (Monday–Sunday local) rates, the overdue tickets now, the grids to watch."""
    t, hours = services.texts.t, category_hours(services.config)
    week = periods.previous_week(now, services.timezone)
    grids = await rate_reads.grid_breakdown(conn, week, SUBDISTRICT, hours, now=now)
    overall = rate_reads.total(grids)  # the grids part the subdistrict: no second read
    overdue = await stats.overdue_tickets(conn, now, SUBDISTRICT)
    lines = [t("digest_title", name=services.config.subdistrict.name, period=period_text(services, week)),
             t("digest_subdistrict"), *rates_lines(services, overall), t("stats_by_community")]
    lines += community_rows(services, await rate_reads.community_breakdown(conn, week, SUBDISTRICT, hours, now=now))
    lines.append("")
    lines += _overdue_lines(services, overdue, now)
    lines.append("")
    lines += _attention_lines(services, grids, overdue)
    problems = await outbox.delivery_problems(conn, week.start)
    if any(problems.values()):
        # Messages that may not have arrived or may have arrived twice, and messages the bot
        # could not handle: someone checks.
        lines += ["", t("digest_delivery_problems", failed=problems.get("failed", 0),
                        uncertain=problems.get("uncertain", 0), parked=problems["parked"],
                        resent=problems["resent"])]
    return "\n".join(lines)


async def weekly_digest(conn: Connection, services: Services, now: datetime) -> list[Notification]:
    """One digest notification per chat account of each subdistrict admin (kind "digest").

    Returns nothing when no admin has bound an account. The caller writes the notifications
    to the outbox in its transaction (scheduled Mondays 09:00 local).
    """
    admins = await people_with_role(conn, Role.ADMIN)
    recipients = await recipients_of(conn, admins)
    if not recipients:
        return []
    reply = Reply(text=await digest_text(conn, services, now))
    return [Notification(recipient, reply, DIGEST_KIND, None) for recipient in recipients]


DIGEST_STATE_KEY = "scheduler:digest_next_at"  # in the state table: when the next digest is due


async def digest_if_due(conn: Connection, services: Services, now: datetime,
                        grace: timedelta) -> list[Notification]:
    """The weekly digest when its time has come (the scheduler decides when to ask). One missed
    by more than `grace` (the bot was down) is not sent late: the admins are told it was missed."""
    cron = services.config.scheduler.digest
    raw = await state.get_state(conn, DIGEST_STATE_KEY)
    if raw is None:  # the first start: the first digest is the next one due
        await _set_digest_next(conn, services, now, cron)
        return []
    due = parse_stamp(raw)
    if due > now:
        return []
    await _set_digest_next(conn, services, now, cron)
    if now - due > grace:
        return await admin_notices(conn, services.texts.t("digest_missed"))
    return await weekly_digest(conn, services, now)


async def _set_digest_next(conn: Connection, services: Services, now: datetime, cron: str) -> None:
    upcoming = next_fire(cron, now, services.config.subdistrict.timezone)
    if upcoming is not None:
        await state.set_state(conn, DIGEST_STATE_KEY, stamp(upcoming))
