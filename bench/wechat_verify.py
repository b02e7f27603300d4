"""After bench.wechat_callbacks: what the database and the fake WeChat API say happened.

Tickets must equal the reports the followers saw filed, none twice, each leader card delivered
to the fake API (customer-service message or template), and no passive reply may have been
the deadline text.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.wechat_flow import Stats

CARD = re.compile(r"新工单 #(\d+)")
IN_FLIGHT = "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'claimed', 'sending')"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def scalar(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=10) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def wait_outbox_drained(db: Path, timeout: float = 120.0) -> float:  # noqa: ASYNC109
    """Seconds until the bot's sender has no row left to send (cards keep going after the run)."""
    started = time.monotonic()
    while scalar(db, IN_FLIGHT):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"outbox still has {scalar(db, IN_FLIGHT)} rows in flight after {timeout:.0f} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def delivered(fake_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{fake_url}/_bench/calls") as response:
        response.raise_for_status()
        return dict(await response.json())


def verify(db: Path, stats: Stats, expected: int, fake: dict[str, Any], leader: str) -> list[Check]:
    with sqlite3.connect(db, timeout=10) as conn:
        rows = conn.execute("SELECT id, description FROM tickets").fetchall()
        outbox = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
        inbox_failed = conn.execute("SELECT COUNT(*) FROM inbox WHERE status NOT IN ('done', 'skipped')").fetchone()[0]
    descriptions = {ticket_id: text for ticket_id, text in rows}
    markers = Counter(re.search(r"住户\d+第\d+次反映", text).group(0) for text in descriptions.values()  # type: ignore[union-attr]
                      if re.search(r"住户\d+第\d+次反映", text))
    twice = [m for m, n in markers.items() if n > 1]
    mismatched = [t for t, marker in stats.tickets.items() if marker not in descriptions.get(t, "")]
    cards = Counter(int(m.group(1)) for call in fake["delivered"] if call["touser"] == leader
                    for m in [CARD.search(call["text"])] if m)
    missing_cards = sorted(set(descriptions) - set(cards))
    by_path = Counter(call["path"].rsplit("/", 2)[-2] for call in fake["delivered"] if call["touser"] == leader)
    return [
        Check("tickets == reports filed", len(rows) == len(stats.tickets) == expected,
              f"{len(rows)} tickets in db, {len(stats.tickets)} filed, {expected} planned"),
        Check("no duplicate tickets", not twice and not mismatched,
              f"{len(twice)} reports filed twice, {len(mismatched)} ticket numbers not matching their report"),
        Check("every leader card delivered", not missing_cards,
              f"{sum(cards.values())} cards for {len(cards)} tickets delivered to the leader "
              f"({dict(by_path)}), missing {missing_cards[:10]}"),
        Check("no deadline fallback replies", stats.deadline_replies == 0,
              f"「正在处理，稍后把结果发给您。」 answered {stats.deadline_replies} times"),
        Check("every callback answered and handled", not stats.errors and inbox_failed == 0,
              f"{len(stats.errors)} client errors {stats.errors[:3]}, {inbox_failed} inbox items not done"),
        Check("outbox", not (outbox.get("failed", 0) or outbox.get("uncertain", 0)),
              f"outbox rows by status {outbox}; fake refused {fake['refused']}, tokens issued "
              f"{fake['tokens_issued']}"),
    ]
