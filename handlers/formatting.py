"""Small formatting rules shared by every flow: masked phones, local times, durations."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(text: str) -> str | None:
    """An 11-digit mainland mobile number from what a resident typed, or None."""
    digits = re.sub(r"[\s\-]", "", text).removeprefix("+86")
    return digits if PHONE_PATTERN.match(digits) else None


# A mobile number or an 18-character ID number inside free text (not inside a longer digit run).
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9Xx])")


def mask_numbers(text: str) -> str:
    """Free text relayed to staff with phone and ID numbers masked, as the phone field is."""
    text = _ID_IN_TEXT.sub(lambda m: f"{m.group()[:3]}{'*' * 13}{m.group()[-2:]}", text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def mask_phone(phone: str) -> str:
    """138****1234: the only form in which a phone number is shown by default."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M")


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
