"""Small formatting rules shared by every flow: masked phones, local times, durations."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
ID_PATTERN = re.compile(r"^[1-9]\d{16}[\dXx]$")
# What people put between the digits of a number: spaces (also full-width and non-breaking),
# dashes, dots, and the invisible characters that could hide a number from the pattern.
_SEPARATOR = r"[\s\-‐‑‒–—―−－.．·・\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
_X = "XxＸｘ"
# A run of digit groups (any script's digits, full-width ones too) joined by 1–3 separators,
# maybe opened by + (+86); an ID number's last group may end in X.
_RUN = re.compile(rf"[+＋]?\d+(?:[{_X}](?!\d))?(?:{_SEPARATOR}{{1,3}}\d+(?:[{_X}](?!\d))?)*")
_GROUP = re.compile(rf"\d+[{_X}]?")
_LONGEST = 22  # 0086 and an 18-character ID number


def _ascii(group: str) -> str:
    """Digits as ASCII (full-width and other scripts' digits too), X as typed (upper or lower)."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else unicodedata.normalize("NFKC", c)
                   for c in group)


def normalise_phone(text: str) -> str | None:
    """An 11-digit mainland mobile number from what a resident typed (full-width digits, spaces,
    dashes, dots, +86 or 0086 allowed), or None."""
    digits = re.sub(rf"{_SEPARATOR}|[()（）]", "", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    return digits if PHONE_PATTERN.match(digits) else None


def _masked(digits: str, plus: bool) -> str | None:
    """The masked form if these digits are a mobile or an ID number (after a +86 / 0086)."""
    cores = [digits]
    if digits.startswith("0086"):
        cores.append(digits[4:])
    if plus and digits.startswith("86"):
        cores.append(digits[2:])
    for core in cores:
        if PHONE_PATTERN.match(core):
            return mask_phone(core)
        if ID_PATTERN.match(core):
            return f"{core[:3]}{'*' * 13}{core[-2:]}"
    return None


def _mask_run(run: str) -> str:
    """Within one run, the longest stretch of consecutive groups that forms a number is masked,
    so 「138 1234 5678 3栋」 masks the phone and keeps the 3."""
    plus = run[0] in "+＋"
    groups = [(m.start(), m.end(), _ascii(m.group())) for m in _GROUP.finditer(run)]
    pieces, done, first = [], 0, 0
    while first < len(groups):
        found: tuple[int, str] | None = None
        digits = ""
        for last in range(first, len(groups)):
            if digits[-1:] in ("X", "x"):
                break  # only an ID number's last character may be X
            digits += groups[last][2]
            if len(digits) > _LONGEST:
                break
            masked = _masked(digits, plus and first == 0)
            if masked is not None:
                found = (last, masked)
        if found is None:
            first += 1
            continue
        last, masked = found
        start = 0 if plus and first == 0 else groups[first][0]
        pieces += [run[done:start], masked]
        done, first = groups[last][1], last + 1
    pieces.append(run[done:])
    return "".join(pieces)


def mask_numbers(text: str) -> str:
    """Free text with mobile and ID numbers masked as the phone field is, in whatever form they
    were typed (「138 1234 5678」「１３８…」「+86…」「110105 19491231 002X」); landlines stay."""
    return _RUN.sub(lambda m: _mask_run(m.group()), text)


def mask_phone(phone: str) -> str:
    """138****1234: the only form in which a phone number is shown by default."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M")


def day_time(moment: datetime, timezone: str) -> str:
    """11月28日 14:05, local time."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def hours_text(hours: float) -> str:
    if hours >= 24 and hours % 24 == 0:
        return f"{int(hours // 24)} 天"
    if hours == int(hours):
        return f"{int(hours)} 小时"
    return f"{hours:g} 小时"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


ID_DIGITS = 9  # ticket, announcement and menu ids; a longer "number" in button data is forged


def parse_id(raw: str, max_digits: int = ID_DIGITS) -> int | None:
    """A number from button data or typed text: ASCII digits only (str.isdigit() also takes "²",
    which int() refuses) and short enough for SQLite's INTEGER; anything else is None."""
    if raw.isascii() and raw.isdigit() and len(raw) <= max_digits:
        return int(raw)
    return None
