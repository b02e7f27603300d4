"""One spelling per building, so 「5号楼」「5栋」「５幢」「五栋」 are known to be the same building.

Shared by the config check (the same building written two ways) and the address matcher (what
residents type), so both read a building the same way."""

from __future__ import annotations

import re
import unicodedata

# The suffixes residents and config authors use for a building; 号/座 as the address matcher does.
_SUFFIX = re.compile(r"(号楼|栋|幢|号|座)$")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百]+")


def chinese_number(text: str) -> int | None:
    """「十二」→ 12, 「二十五」→ 25, 「一百零八」→ 108, 「三」→ 3; None for what is not one."""
    total, current = 0, None
    for char in text:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char in "十百":
            unit = 10 if char == "十" else 100
            total += (1 if current is None else current) * unit
            current = None
        else:
            return None
    return total + (current or 0)


def building_key(name: str) -> str:
    """The comparable form of a building name: NFKC (full-width digits), no spaces, Chinese
    numerals as digits, and the building suffix dropped."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    text = _NUMERAL.sub(lambda m: str(chinese_number(m.group()) or m.group()), text)
    return _SUFFIX.sub("", text) or text


_NUMBERED = re.compile(r"([零〇一二两三四五六七八九十百]+)(?=号楼|栋|幢|号|座|单元|层|室)")


def typed_address(text: str) -> str:
    """A typed address with its numbers as digits: NFKC (「５栋」), no spaces, and Chinese
    numerals before a building, unit, floor or room word as digits (「五栋」「十二号楼」)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return _NUMBERED.sub(lambda m: str(chinese_number(m.group(1)) or m.group(1)), text)


def compound_key(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
