"""Erasure beyond a resident's own rows: the copies of their data the bot made for other people.

A description, added information and a phone number travel: a neighbour's duplicate hint quoted
the description (outbox), a press on that hint or on the card embeds the message in the stored
update (inbox), a leader's typed 办结 note may quote the phone (inbox), a WeChat passive reply
keeps the text (inbox.response). Those rows belong to others and stay, with their delivery
state; their text is blanked.

They are found by content. Before anything is blanked, the texts and numbers become traces:
every form the bot writes them in (as typed, and masked as cards show them) is squeezed —
NFKC, case-folded, everything but letters, digits and '*' dropped — so spacing, separators,
full-width digits, +86, line folding, quoting and JSON or XML escaping do not hide a copy. A text
becomes overlapping fragments of FRAGMENT characters, so a copy that quotes only a part (the hint
showed the first 30 characters) is found too. Fragments shorter than MIN_TRACE are not used: a
few common words are not personal and would match half the neighbourhood.

Candidates are the inbox and outbox rows since the resident first wrote to the bot (no copy can
be older), read in batches of BATCH by id, so memory stays bounded however large the tables are.
A row a sender holds or is still to deliver, or an inbox item still being handled, is blanked
once it has settled (erasure_followups, on the scheduler's tick).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection

FRAGMENT = 12
STEP = 6  # fragments overlap, so any quoted run of FRAGMENT + STEP - 1 characters holds one
MIN_TRACE = 6
MIN_NUMBER = 7  # a phone field this long is kept whole as a trace (a landline without area code)
BATCH = 500
SETTLED_OUTBOX = ("sent", "failed", "uncertain")
SETTLED_INBOX = ("done", "skipped", "failed")

# Numbers as residents write them: spaced or dashed, full-width (NFKC first), +86 in front.
_SEP = r"[\s\-‐–—.·]?"
_NUMBER_FORMS = (
    re.compile(rf"(?<!\d)(?:\+?86{_SEP})?(1[3-9]\d(?:{_SEP}\d){{8}})(?!\d)"),  # mobile
    re.compile(rf"(?<![\dxX])(\d(?:{_SEP}\d){{16}}{_SEP}[\dxX])(?![\dxX])"),  # ID number
    re.compile(rf"(?<!\d)(0\d{{2,3}}{_SEP}\d{{7,8}})(?!\d)"),  # landline with area code
)
_DROPPED = re.compile(r"[^\w*]+")  # \w: letters and digits of any script (and _)
Mask = Callable[[str], str]


def squeeze(text: str) -> str:
    """The letters, digits and '*' of a text, NFKC-normalised and case-folded."""
    kept = _DROPPED.sub("", text).replace("_", "")
    if not unicodedata.is_normalized("NFKC", kept):  # most are, once punctuation is gone: 2x faster
        kept = _DROPPED.sub("", unicodedata.normalize("NFKC", kept)).replace("_", "")
    return kept.casefold()


def _fragments(squeezed: str) -> set[str]:
    if len(squeezed) < MIN_TRACE:
        return set()
    if len(squeezed) <= FRAGMENT:
        return {squeezed}
    starts = range(0, len(squeezed) - FRAGMENT + 1, STEP)
    return {squeezed[i:i + FRAGMENT] for i in starts} | {squeezed[-FRAGMENT:]}


def _numbers(text: str) -> set[str]:
    """Phone, ID and landline numbers in a text, as bare digits."""
    normalised = unicodedata.normalize("NFKC", text)
    return {squeeze(m.group(1)) for form in _NUMBER_FORMS for m in form.finditer(normalised)}


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Masks:
    """How the bot shows a resident's data to others: free text with numbers masked (cards,
    notices) and a phone field masked (138****5678). Copies in those forms are theirs too."""

    text: Mask = _same
    number: Mask = _same


AS_STORED = Masks()


@dataclass(frozen=True)
class Traces:
    """Squeezed fragments of a resident's data; a text holding any of them is a copy."""

    fragments: frozenset[str]

    @classmethod
    def of(cls, texts: Iterable[str], numbers: Iterable[str], masks: Masks = AS_STORED) -> Traces:
        found: set[str] = set()
        numbers = [squeeze(n) for n in numbers]
        for text in texts:
            numbers += _numbers(text)
            for form in (text, masks.text(text)):
                found |= _fragments(squeeze(form))
                for line in form.splitlines():
                    found |= _fragments(squeeze(line))
        for number in {n for n in numbers if len(n) >= MIN_NUMBER}:
            found |= {number, squeeze(masks.number(number)), squeeze(masks.text(number))}
        return cls(frozenset(f for f in found if len(f) >= MIN_TRACE))

    def found_in(self, stored: str | None) -> bool:
        if not stored or not self.fragments:
            return False
        haystack = squeeze(_unescaped(stored))
        return any(fragment in haystack for fragment in self.fragments)


_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


def _unescaped(stored: str) -> str:
    """A stored payload as its reader sees it: JSON escapes (updates, outbox rows) and XML
    entities (WeChat) undone. JSON's own punctuation is then dropped by squeeze() (parsing each
    payload and squeezing its strings one by one made the scan ~5x slower)."""
    if "\\" in stored:
        stored = _JSON_ESCAPE.sub(_unescape_one, stored)
    return html.unescape(stored) if "&" in stored else stored


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1)
    return chr(int(code[1:], 16)) if len(code) == 5 else _JSON_CONTROLS.get(code, code)


_JSON_CONTROLS = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


async def traces_of_resident(conn: Connection, resident_id: int, masks: Masks) -> Traces:
    """The resident's phone numbers, their tickets' descriptions, the information they added, the
    reasons they gave for 不满意 and what they gave at sign-up (read before they are blanked)."""
    texts = [str(r[0]) for r in await fetch_all(
        conn, "SELECT description FROM tickets WHERE resident_id = ? AND description != ''", (resident_id,))]
    # What she added (补充信息) and why she was 不满意: cards for the next level quote both.
    texts += [str(r[0]) for r in await fetch_all(
        conn, "SELECT e.note FROM ticket_events AS e JOIN tickets AS t ON t.id = e.ticket_id"
        " WHERE t.resident_id = ? AND e.action IN ('info_added', 'rated') AND e.actor_kind = 'resident'"
        " AND e.note != ''", (resident_id,))]
    texts += await _signup_texts(conn, resident_id)
    # The typed address with its flat (「龙池花园5栋2单元302」), as the inbox holds it.
    texts += [str(r[0]) for r in await fetch_all(
        conn, "SELECT compound || building || detail FROM tickets WHERE resident_id = ? AND detail != ''",
        (resident_id,))]
    numbers = [str(r[0]) for r in await fetch_all(
        conn, "SELECT phone FROM residents WHERE id = ? AND phone != ''"
        " UNION SELECT phone FROM tickets WHERE resident_id = ? AND phone != ''", (resident_id, resident_id))]
    return Traces.of(texts, numbers, masks)


_SIGNUP_BOOKKEEPING = frozenset({"status"})


async def _signup_texts(conn: Connection, resident_id: int) -> list[str]:
    """What she gave at sign-up, read from whole rows so a column added later (a name, a phone
    for the organiser's list) is a trace too; the state and the times are not hers to find."""
    async with conn.execute("SELECT * FROM signups WHERE resident_id = ?", (resident_id,)) as cursor:
        columns = [column[0] for column in cursor.description]
        rows = await cursor.fetchall()
    return [value for row in rows for column, value in zip(columns, row, strict=True)
            if isinstance(value, str) and value and column not in _SIGNUP_BOOKKEEPING
            and not column.endswith("_at")]


async def first_seen(conn: Connection, resident_id: int) -> str:
    row = await fetch_one(conn, "SELECT created_at FROM residents WHERE id = ?", (resident_id,))
    return str(row[0]) if row else ""


async def blank_copies(conn: Connection, traces: Traces, since: str, now: datetime) -> int:
    """Blank every inbox and outbox row since `since` that holds a trace; returns how many."""
    return await _blank_inbox(conn, traces, since, now) + await _blank_outbox(conn, traces, since, now)


async def _blank_inbox(conn: Connection, traces: Traces, since: str, now: datetime) -> int:
    blanked, last = 0, 0
    while True:
        rows = await fetch_all(
            conn, "SELECT id, status, payload, response FROM inbox WHERE id > ? AND received_at >= ?"
            " AND (payload != '' OR response IS NOT NULL) ORDER BY id LIMIT ?", (last, since, BATCH))
        for row_id, status, payload, response in rows:
            if not (traces.found_in(payload) or traces.found_in(response)):
                continue
            if status in SETTLED_INBOX:
                await conn.execute("UPDATE inbox SET payload = '', response = NULL WHERE id = ?", (row_id,))
                blanked += 1
            else:
                await follow_up(conn, "inbox", row_id, now)
        if len(rows) < BATCH:
            return blanked
        last = int(rows[-1][0])


async def _blank_outbox(conn: Connection, traces: Traces, since: str, now: datetime) -> int:
    blanked, last = 0, 0
    while True:
        rows = await fetch_all(
            conn, "SELECT id, status, payload FROM outbox WHERE id > ? AND created_at >= ? AND payload != '{}'"
            " ORDER BY id LIMIT ?", (last, since, BATCH))
        for row_id, status, payload in rows:
            if not traces.found_in(payload):
                continue
            if status in SETTLED_OUTBOX:
                await _blank_outbox_row(conn, row_id, now)
                blanked += 1
            else:
                # Someone else's message still to be delivered: it goes out, then it is blanked.
                await follow_up(conn, "outbox", row_id, now)
        if len(rows) < BATCH:
            return blanked
        last = int(rows[-1][0])


async def _blank_outbox_row(conn: Connection, row_id: int, now: datetime) -> None:
    # shown_at: a blank failed row is never offered as a missed notice in 我的工单.
    await conn.execute("UPDATE outbox SET payload = '{}', shown_at = COALESCE(shown_at, ?) WHERE id = ?",
                       (stamp(now), row_id))


async def follow_up(conn: Connection, source: str, row_id: int, now: datetime) -> None:
    await conn.execute("INSERT INTO erasure_followups (source, row_id, added_at) VALUES (?, ?, ?)"
                       " ON CONFLICT DO NOTHING", (source, row_id, stamp(now)))


async def follow_up_busy_outbox(conn: Connection, where: str, params: Sequence[object],
                                now: datetime) -> None:
    """Rows a sender holds right now (claimed, sending) are blanked once they have left."""
    await conn.execute(
        "INSERT INTO erasure_followups (source, row_id, added_at) SELECT 'outbox', id, ?"
        f" FROM outbox WHERE status IN ('claimed', 'sending') AND payload != '{{}}' AND {where}"
        " ON CONFLICT DO NOTHING",
        (stamp(now), *params))


async def settle_followups(conn: Connection, now: datetime, limit: int = BATCH) -> int:
    """Blank the followed-up rows that have settled (or are gone); returns how many were blanked."""
    blanked = 0
    for source, row_id, exists in await fetch_all(
        conn, "SELECT f.source, f.row_id, COALESCE(o.id, i.id) IS NOT NULL FROM erasure_followups AS f"
        " LEFT JOIN outbox AS o ON f.source = 'outbox' AND o.id = f.row_id"
        " LEFT JOIN inbox AS i ON f.source = 'inbox' AND i.id = f.row_id"
        " WHERE (f.source = 'outbox' AND (o.id IS NULL OR o.status IN (?, ?, ?)))"
        " OR (f.source = 'inbox' AND (i.id IS NULL OR i.status IN (?, ?, ?))) LIMIT ?",
        (*SETTLED_OUTBOX, *SETTLED_INBOX, limit),
    ):
        if exists and source == "outbox":
            await _blank_outbox_row(conn, row_id, now)
        elif exists:
            await conn.execute("UPDATE inbox SET payload = '', response = NULL WHERE id = ?", (row_id,))
        blanked += bool(exists)
        await conn.execute("DELETE FROM erasure_followups WHERE source = ? AND row_id = ?", (source, row_id))
    return blanked
