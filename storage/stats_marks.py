"""The 三率 dashboard's reads from the stored judgement (ticket_rate_marks, migration 0030, folded
by storage/rate_facts.py): the counts of a period per grid, the durations in order, the 不满意
reasons. The definitions are storage/stats.py's, applied once per ticket when its events are
folded (rate_facts.MARKS_SELECT); a read adds up the counts kept per month, place and judgement
(ticket_rate_counts, migration 0031) — or, for a period that cuts a month, counts the rows — and
compares only the rows still waiting for a deadline with `now`. A ticket whose deadlines were not recorded at creation
(LEGACY) is judged by stats.py's own query at read time (the category's hours as configured
now), through a partial index of such tickets, and added in.

Each read takes one period: the month keys it touches (every index's first column, months in
Asia/Shanghai), and the creation's bounds (created_us) too unless the period is exactly those
months."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.periods import Period
from storage.rate_facts import MONTH_ZONE, Flag, month_key, refresh_facts
from storage.stats import CategoryHours, Rates, Scope, _rates_sql, judged_params, micros
from storage.stats_detail import TicketTimes, UnsatisfiedReason, ticket_times

# Appended to stats.py's WHERE (after the period): only tickets without both recorded deadlines.
LEGACY = " AND (f.ack_due IS NULL OR f.resolve_due IS NULL)"
WORK_KEY = "stats:work_spans_for"  # channel_state: the calendar the office-hours durations were written by
_FIELDS = [f.name for f in fields(Rates)]
_AT = {name: index for index, name in enumerate(_FIELDS)}  # a Rates field's place in a counts row
# The Rates fields a counted row adds one to for each flag it carries (storage/stats.py's definitions).
_COUNTED_BY = (("response_base", Flag.ACKED), ("acknowledged", Flag.ACKED),
               ("acknowledged_in_time", Flag.ACKED_IN_TIME), ("resolution_base", Flag.DONE),
               ("resolved", Flag.DONE), ("resolved_in_time", Flag.DONE_IN_TIME), ("rated", Flag.RATED),
               ("satisfied", Flag.SATISFIED))


def total(parts: Iterable[Rates]) -> Rates:
    """The counts of disjoint sets of tickets together (every Rates field is a count)."""
    sums = dict.fromkeys(_FIELDS, 0)
    for part in parts:
        for name in _FIELDS:
            sums[name] += getattr(part, name)
    return Rates(**sums)


def _month_start(key: int) -> datetime:
    return datetime(key // 100, key % 100, 1, tzinfo=MONTH_ZONE)


def _cuts_month(period: Period) -> bool:
    """Whether the period starts or ends inside a month key (then created_us bounds it too)."""
    first, last = month_key(stamp(period.start)), month_key(stamp(period.end - timedelta(microseconds=1)))
    return period.start != _month_start(first) or period.end != _month_start(_next(last))


def _where(period: Period, scope: Scope, listed: bool = False) -> tuple[str, list[object]]:
    """The WHERE clause (on `m`) of a period and scope, and its values; `listed`: the month keys
    as a list (one index seek each for a second column's range) rather than a range."""
    first, last = month_key(stamp(period.start)), month_key(stamp(period.end - timedelta(microseconds=1)))
    keys = [first]
    while keys[-1] != last:
        keys.append(_next(keys[-1]))
    # One key: an equality, so the month's rows come from the index in grid order (no sort).
    clause, values = (("m.month = ?", [first]) if first == last
                      else (f"m.month IN ({', '.join('?' for _ in keys)})", list(keys)) if listed
                      else ("m.month >= ? AND m.month <= ?", [first, last]))
    if _cuts_month(period):
        clause += " AND m.created_us >= ? AND m.created_us < ?"
        values += [micros(period.start), micros(period.end)]
    for column, wanted in (("grid_id", scope.grid_id), ("community_id", scope.community_id)):
        if wanted is not None:
            clause += f" AND m.{column} = ?"
            values.append(wanted)
    return clause, values


@lru_cache(maxsize=512)
def _fields_of(flags: int) -> tuple[int, ...]:
    """The Rates fields (indexes in _FIELDS' order) a row judged `flags` adds one to; the bits
    as plain ints (IntFlag arithmetic per row costs more than the read)."""
    if flags & int(Flag.WITHDRAWN):
        return (_AT["withdrawn"],)
    if not flags & int(Flag.COUNTED):
        return ()
    return (_AT["tickets"], *(_AT[name] for name, bit in _COUNTED_BY if flags & int(bit)))


def _add(counts: dict[tuple[int, str], list[int]], key: tuple[int, str], flags: int, n: int) -> None:
    """n rows of one (month, grid) judged `flags`, into its Rates fields (in _FIELDS' order)."""
    row = counts.setdefault(key, [0] * len(_FIELDS))
    for index in _fields_of(flags):
        row[index] += n


def _aligned(months: list[Period]) -> bool:
    """Whether each period is exactly one month key (the subdistrict's months are Shanghai's)."""
    return all(m.start == _month_start(k) and m.end == _month_start(_next(k))
               for m, k in ((m, month_key(stamp(m.start))) for m in months))


def _next(key: int) -> int:
    return key + 1 if key % 100 < 12 else (key // 100 + 1) * 100 + 1


async def grid_rates(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, *,
                     now: datetime) -> dict[str, Rates]:
    """stats.grid_breakdown's counts (by current grid) of one period as they stand at `now`, from
    the stored judgement. The caller folds first (refresh_facts)."""
    return (await monthly_grid_rates(conn, [period], scope, hours, now=now))[0]


async def community_rates(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, *,
                          now: datetime) -> dict[str, Rates]:
    """stats.community_breakdown's counts of one period, from the stored judgement (folded first)."""
    return await _grid_rates(conn, period, scope, hours, now=now, by_month=False, by=Key.COMMUNITY)


async def monthly_grid_rates(conn: Connection, months: list[Period], scope: Scope, hours: CategoryHours, *,
                             now: datetime) -> list[dict[str, Rates]]:
    """grid_rates of each of `months`: one read over all of them grouped by (month, grid) when
    they are whole consecutive Shanghai months, else one read each."""
    keys = [month_key(stamp(m.start)) for m in months]
    if len(months) < 2 or not _aligned(months) or any(_next(a) != b for a, b in zip(keys, keys[1:], strict=False)):
        return [await _grid_rates(conn, m, scope, hours, now=now, by_month=False) for m in months]
    whole = Period("custom", months[0].start, months[-1].end)
    found = await _grid_rates(conn, whole, scope, hours, now=now, by_month=True)
    legacy = [await _legacy_rates(conn, m, scope, hours, now=now) for m in months]
    return [_merge(found.get(key, {}), extra) for key, extra in zip(keys, legacy, strict=True)]


def _merge(stored: dict[str, Rates], legacy: dict[str, Rates]) -> dict[str, Rates]:
    merged = dict(stored)
    for key, counts in legacy.items():
        merged[key] = total([merged.get(key, Rates()), counts])
    return merged


class Key(StrEnum):
    """What the counts are grouped by: the ticket's current grid or community (its column)."""

    GRID = "grid_id"
    COMMUNITY = "community_id"


async def _legacy_rates(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, *,
                        now: datetime, by: Key = Key.GRID) -> dict[str, Rates]:
    """The LEGACY tickets of the period judged by stats.py's query, per grid (or community)."""
    spans, legacy_area, params = judged_params(hours, scope, period, now)
    return {str(r[0]): Rates(*(int(v or 0) for v in r[1:]))
            for r in await fetch_all(conn, _rates_sql(spans, LEGACY + legacy_area, f"t.{Key(by).value}"), params)}


async def _grid_rates(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, *,
                      now: datetime, by_month: bool, by: Key = Key.GRID) -> dict:
    """Per grid or community (by_month: per month key, then grid) from the stored judgement;
    without by_month the LEGACY tickets are added in."""
    where, values = _where(period, scope)
    month = "m.month" if by_month else "0"
    column = f"m.{Key(by).value}"  # only an enum's value is formatted in
    counts: dict[tuple[int, str], list[int]] = {}
    # Whole months: the counts kept per (month, place, judgement) (migration 0031), else the rows.
    counted = ("COUNT(*) FROM ticket_rate_marks AS m", "") if _cuts_month(period) \
        else ("SUM(m.n) FROM ticket_rate_counts AS m", " AND m.n > 0")
    for key, grid, flags, n in await fetch_all(
            conn, f"SELECT {month}, {column}, m.flags, {counted[0]}"
                  f" WHERE {where}{counted[1]} GROUP BY {'m.month, ' if by_month else ''}{column}, m.flags", values):
        _add(counts, (int(key), str(grid)), int(flags), int(n))
    # Not yet acknowledged / 办结: in 响应率 / 办结率 once now is past the deadline (at it, it waits).
    now_us = micros(now)
    waiting = (f"SELECT {month}, {column}, SUM(CASE WHEN m.resolve_wait_us >= ? THEN 1 ELSE 0 END),"
               " SUM(CASE WHEN m.ack_wait_us < ? THEN 1 ELSE 0 END), SUM(CASE WHEN m.resolve_wait_us < ? THEN 1 ELSE 0 END)"
               f" FROM ticket_rate_marks AS m WHERE {where}"
               f" AND (m.ack_wait_us IS NOT NULL OR m.resolve_wait_us IS NOT NULL)"
               f" GROUP BY {'m.month, ' if by_month else ''}{column}")
    for key, grid, pending, ack_ended, resolve_ended in await fetch_all(conn, waiting, [now_us, now_us, now_us, *values]):
        row = counts.setdefault((int(key), str(grid)), [0] * len(_FIELDS))
        row[_AT["pending"]] += int(pending or 0)
        row[_AT["response_base"]] += int(ack_ended or 0)
        row[_AT["resolution_base"]] += int(resolve_ended or 0)
    if by_month:
        months: dict[int, dict[str, Rates]] = {}
        for (key, grid), row in counts.items():
            months.setdefault(key, {})[grid] = Rates(*row)
        return months
    return _merge({grid: Rates(*row) for (_, grid), row in counts.items()},
                  await _legacy_rates(conn, period, scope, hours, now=now, by=by))


SECOND = 1_000_000  # µs: the durations are read whole seconds first, the few needed exactly after


class Span(StrEnum):
    """The stored durations a percentile is read from; the only names formatted into that SQL."""

    RESPONSE = "response_us"
    RESOLUTION = "resolution_us"


async def span_seconds(conn: Connection, period: Period, scope: Scope, column: Span) -> list[list[int]]:
    """The stored durations (`column`) of the tickets the rates
    count, as whole seconds (floor), one ascending run per month. Read straight off the (month,
    value) index as one text per month rather than a row per ticket; sorted() again in case an
    engine aggregates in another order (on a sorted run that is one pass)."""
    where, values = _where(period, scope)
    sql = (f"SELECT m.month, group_concat(CAST(m.{Span(column).value} / {SECOND} AS TEXT)) FROM ticket_rate_marks AS m"
           f" WHERE {where} AND m.{Span(column).value} IS NOT NULL GROUP BY m.month")
    return [sorted(json.loads(f"[{r[1]}]")) for r in await fetch_all(conn, sql, values) if r[1]]


async def spans_within(conn: Connection, period: Period, scope: Scope, column: Span, second: int) -> list[int]:
    """The stored durations (µs) that fall in one whole `second`, ascending: one seek per month."""
    where, values = _where(period, scope, listed=True)
    sql = (f"SELECT m.{Span(column).value} FROM ticket_rate_marks AS m WHERE {where}"
           f" AND m.{Span(column).value} >= ? AND m.{Span(column).value} < ?")
    return sorted(int(r[0]) for r in await fetch_all(conn, sql, [*values, second * SECOND, (second + 1) * SECOND]))


async def legacy_times(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, *,
                       now: datetime) -> list[TicketTimes]:
    """The LEGACY tickets the rates count, with their times (the caller counts their durations)."""
    return await ticket_times(conn, period, scope, hours, now=now, only=LEGACY)


@dataclass(frozen=True)
class WorkDue:
    """A row whose office-hours durations are to be written (times None: not counted so)."""

    ticket_id: int
    category_id: str
    created_at: datetime
    responded_at: datetime | None
    done_at: datetime | None


async def work_due(conn: Connection, calendar: str, working: frozenset[str]) -> list[WorkDue]:
    """The rows whose durations are to be written as the deadlines count time: those of the
    `working` categories (office hours) the fold changed since; and when `calendar` (what office
    hours are: the caller's description) or the set of working categories differs from the last
    call's, every row of those categories and of the ones that counted office hours before."""
    rows = await fetch_all(conn, "SELECT value FROM channel_state WHERE key = ?", [WORK_KEY])
    before = json.loads(rows[0][0]) if rows else {"calendar": None, "categories": []}
    again = set(working)
    if before != {"calendar": calendar, "categories": sorted(working)}:
        again |= set(before["categories"])
        if again:
            await conn.execute(f"UPDATE ticket_rate_marks SET work_due = 1 WHERE category_id IN"
                               f" ({', '.join('?' for _ in again)})", sorted(again))
        await conn.execute("INSERT INTO channel_state (key, value) VALUES (?, ?)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           [WORK_KEY, json.dumps({"calendar": calendar, "categories": sorted(working)})])
    if not again:
        return []
    rows = await fetch_all(conn, "SELECT m.ticket_id, m.category_id, f.created_at,"
                           " CASE WHEN m.response_us IS NOT NULL THEN f.ack_at END,"
                           " CASE WHEN m.resolution_us IS NOT NULL THEN f.resolved_last END"
                           " FROM ticket_rate_marks AS m JOIN ticket_rate_facts AS f ON f.ticket_id = m.ticket_id"
                           f" WHERE m.work_due = 1 AND m.category_id IN ({', '.join('?' for _ in again)})",
                           sorted(again))
    return [WorkDue(int(r[0]), str(r[1]), parse_stamp(r[2]), parse_stamp(r[3]) if r[3] else None,
                    parse_stamp(r[4]) if r[4] else None) for r in rows]


async def write_work(conn: Connection, written: list[tuple[int, int | None, int | None]]) -> None:
    """(ticket id, response µs, resolution µs) as the deadlines count time; every due row is then
    done (the others keep the fold's clock time)."""
    if written:
        await conn.executemany("UPDATE ticket_rate_marks SET response_us = ?, resolution_us = ?"
                               " WHERE ticket_id = ?", [(a, b, t) for t, a, b in written])
    await conn.execute("UPDATE ticket_rate_marks SET work_due = 0 WHERE work_due = 1")


@dataclass(frozen=True)
class Reasons:
    newest: list[tuple[int, str, str]]  # (ticket id, at, note), newest first
    total: int
    blank: int


async def unsatisfied_reasons(conn: Connection, period: Period, scope: Scope, shown: int) -> Reasons:
    """stats_detail.unsatisfied_reasons from the list of 不满意 events: how many were given on the
    period's tickets, how many without a reason, and the newest `shown` (unparsed). The whole
    subdistrict over whole months reads the list's own index; otherwise each event's ticket row
    gives its creation and current place."""
    where, values = _where(period, scope)
    if scope.grid_id is None and scope.community_id is None and not _cuts_month(period):
        source, where = "ticket_unsatisfied AS u", where.replace("m.month", "u.month")
    else:
        source = "ticket_unsatisfied AS u JOIN ticket_rate_marks AS m ON m.ticket_id = u.ticket_id"
    counted = await fetch_all(conn, f"SELECT COUNT(*), SUM(u.blank) FROM {source} WHERE {where}", values)
    # The newest first, then only their notes (not a note per event of the period).
    rows = await fetch_all(conn, "SELECT x.ticket_id, x.at, e.note FROM (SELECT u.ticket_id, u.at, u.event_id"
                           f" FROM {source} WHERE {where} ORDER BY u.at DESC, u.event_id DESC LIMIT ?) AS x"
                           " JOIN ticket_events AS e ON e.id = x.event_id ORDER BY x.at DESC, x.event_id DESC",
                           [*values, shown])
    return Reasons([(int(r[0]), str(r[1]), r[2] or "") for r in rows], int(counted[0][0] or 0),
                   int(counted[0][1] or 0))


def reason(row: tuple[int, str, str]) -> UnsatisfiedReason:
    return UnsatisfiedReason(row[0], parse_stamp(row[1]), row[2])


__all__ = ["Reasons", "WorkDue", "grid_rates", "legacy_times", "monthly_grid_rates", "reason", "refresh_facts",
           "Key", "Span", "community_rates", "span_seconds", "spans_within", "total", "unsatisfied_reasons",
           "work_due", "write_work"]
