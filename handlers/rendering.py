"""How what people typed is shown to someone else: text that cannot pose as a message's own lines,
names that are one short line.

Every message that quotes a resident's description or added information, a staff note or a
name builds it through these functions (cards, summaries, 我的工单, notices, sign-up lists), on
every channel, so a description ending in 「⏎地址：…」 or a first name 「张三⏎2. 李四」 can never
stand where the bot's own lines stand.
"""

from __future__ import annotations

import unicodedata

from handlers.formatting import clip, mask_numbers

QUOTE = "  ｜"  # starts every continuation line of quoted text
NAME_LIMIT = 32


def strip_hidden(text: str) -> str:
    """Line breaks of every kind (\\r, U+2028, U+0085, …) as \\n; format characters (bidi
    overrides and isolates, LRM/RLM, zero-width spaces and joiners, BOM — Unicode category Cf)
    dropped; other control characters (tab, escape, …) as spaces."""
    lines = []
    for line in text.splitlines():
        kept = []
        for char in line:
            category = unicodedata.category(char)
            if category == "Cf":
                continue
            kept.append(" " if category == "Cc" else char)
        lines.append("".join(kept))
    return "\n".join(lines)


def resident_text(text: str, limit: int | None = None) -> str:
    """Free text as quoted inside a message: hidden characters gone, phone and ID numbers masked,
    blank lines dropped, cut at `limit` characters, and each line after the first started with
    「  ｜」, so none of it can stand at the start of a line as a field of its own."""
    lines = [line.strip() for line in mask_numbers(strip_hidden(text)).split("\n")]
    kept = "\n".join(line for line in lines if line)
    if limit is not None:
        kept = clip(kept, limit)
    return kept.replace("\n", "\n" + QUOTE)


def one_line(text: str, limit: int) -> str:
    """Free text folded onto one line (every break and run of spaces → one space), hidden
    characters gone, numbers masked, cut at `limit` characters with 「…」."""
    return clip(" ".join(mask_numbers(strip_hidden(text)).split()), limit)


def announcement_title(text: str, limit: int) -> str:
    """An announcement quoted by its start (sign-up answers, reminders): one line like
    `one_line`, but its numbers are left as written — it is public, a contact number is meant."""
    return clip(" ".join(strip_hidden(text).split()), limit)


DETAIL_LIMIT = 30


def clean_detail(raw: str) -> str:
    """A flat (unit, room) as kept: one line of at most 30 characters, leading separators gone."""
    return " ".join(strip_hidden(raw).split()).lstrip("-—,，、 ")[:DETAIL_LIMIT]


def full_address(address: str, detail: str) -> str:
    """The building's address and the flat the resident typed after it (quoted as one line)."""
    return address + one_line(detail, DETAIL_LIMIT) if detail else address


def display_name(raw: str) -> str:
    """A person's or a group's name as stored and shown: one line, at most 32 characters."""
    return one_line(raw, NAME_LIMIT)
