"""After bench/load.py's run: is every report exactly one ticket and one card, and how late was each card.

From the database: tickets (each resident's unique marker in exactly one description, the
number the resident was shown, the planned grid), the outbox (one `card` row per ticket, every
row `sent`), the inbox (every item done, none flood-limited). From the fakes: every card that
reached a leader, on Telegram or WeChat — exactly one per ticket, at that grid's leader.
Latency per ticket: the resident's 提交 → the card accepted by the fake, both CLOCK_MONOTONIC.
The database's stamps (wall clock, converted with the driver's offset) split it into phases.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.load_plan import Plan
from bench.load_telegram import Card, Submission

MARKER = re.compile(r"住户(\d+)号反映")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Timing:
    """One ticket: from 提交 to its card at the fake, and where the time went (seconds)."""

    ticket: int
    route: str  # resident channel → leader channel
    total: float
    intake: float  # 提交 → stored in the inbox
    queued: float  # stored → its handling began
    delivery: float  # handling began → card accepted by the fake (commit, sender, limits, HTTP)


def wall_to_mono(stamp: str, offset: float) -> float:
    return datetime.fromisoformat(stamp).timestamp() - offset


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(sql).fetchall()


def check_all(db: Path, plan: Plan, tickets_seen: dict[int, int], cards: list[Card],
              updates: int) -> list[Check]:
    rows = _rows(db, "SELECT id, description, grid_id FROM tickets")
    by_marker: dict[int, list[int]] = defaultdict(list)
    for ticket, description, _ in rows:
        if found := MARKER.search(description):
            by_marker[int(found.group(1))].append(ticket)
    grid_of = {ticket: grid for ticket, _, grid in rows}
    residents = plan.residents
    lost = [r.index for r in residents if not by_marker.get(r.index)]
    twice = [r.index for r in residents if len(by_marker.get(r.index, [])) > 1]
    wrong = [r.index for r in residents if by_marker.get(r.index) and (
        tickets_seen.get(r.index) not in by_marker[r.index] or grid_of[by_marker[r.index][0]] != r.grid)]
    per_ticket = Counter(c.ticket for c in cards)
    leader_of = {ticket: plan.leaders[grid].chat for ticket, grid in grid_of.items()}
    no_card = sorted(t for t in grid_of if per_ticket[t] == 0)
    dup_cards = sorted(t for t, n in per_ticket.items() if n > 1)
    misrouted = sorted({c.ticket for c in cards if leader_of.get(c.ticket) != c.chat})
    card_rows = dict(Counter(t for (t,) in _rows(db, "SELECT ticket_id FROM outbox WHERE kind = 'card'")))
    outbox = dict(_rows(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status"))
    inbox = dict(_rows(db, "SELECT status || CASE error WHEN '' THEN '' ELSE ':' || error END, COUNT(*)"
                           " FROM inbox GROUP BY 1"))
    return [
        Check("every report is exactly one ticket (database)", not lost and not twice and not wrong
              and len(rows) == len(residents),
              f"{len(rows)} tickets for {len(residents)} residents; lost {lost[:5]}, twice {twice[:5]},"
              f" number or grid not as shown/planned {wrong[:5]}"),
        Check("every resident was shown a ticket number", len(tickets_seen) == len(residents),
              f"{len(tickets_seen)} of {len(residents)}"),
        Check("exactly one card per ticket reached its leader (fakes)", not no_card and not dup_cards
              and not misrouted and len(cards) == len(rows),
              f"{len(cards)} cards at the fakes for {len(rows)} tickets; none {no_card[:5]},"
              f" duplicated {dup_cards[:5]}, to a wrong chat {misrouted[:5]}"),
        Check("one card row per ticket, every outbox row sent (database)",
              set(card_rows) == set(grid_of) and set(card_rows.values()) == {1} and set(outbox) == {"sent"},
              f"card rows for {len(card_rows)} tickets (max {max(card_rows.values(), default=0)} each);"
              f" outbox by status {outbox}"),
        Check("every inbox item handled, none flood-limited", set(inbox) == {"done"} and inbox["done"] == updates,
              f"inbox by status {inbox}; {updates} updates/callbacks sent"),
    ]


def timings(db: Path, plan: Plan, submitted: dict[int, Submission], tickets_seen: dict[int, int],
            cards: list[Card], offset: float) -> list[Timing]:
    """Per ticket with one card and a known 提交: its latency and phases."""
    inbox = {(channel, platform_id): (received, processed) for channel, platform_id, received, processed
             in _rows(db, "SELECT channel, platform_id, received_at, processed_at FROM inbox")}
    first_card = {}
    for card in sorted(cards, key=lambda c: c.at):
        first_card.setdefault(card.ticket, card)
    out = []
    for resident in plan.residents:
        ticket, sub = tickets_seen.get(resident.index), submitted.get(resident.index)
        card = first_card.get(ticket) if ticket is not None else None
        if sub is None or card is None:
            continue
        received, processed = inbox.get((resident.channel, sub.platform_id), (None, None))
        if received is None or processed is None:
            continue
        stored, began = wall_to_mono(received, offset), wall_to_mono(processed, offset)
        route = f"{resident.channel} → {plan.leaders[resident.grid].channel}"
        out.append(Timing(ticket, route, card.at - sub.at, stored - sub.at, began - stored, card.at - began))
    return out
