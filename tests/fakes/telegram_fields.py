"""A spec field of a Bot API method or type, with the limits its description documents.

The Bot API states most limits only in prose ("Text of the message to be sent, 1-4096 characters
after entities parsing"); these patterns read the forms the 10.1 descriptions use, so a limit
added to a description in a later version is checked as soon as the spec file is replaced.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_LENGTH = re.compile(r"(\d+)-(\d+) (characters|bytes)", re.IGNORECASE)
_RANGE = re.compile(r"(?:between |; |, )(-?\d+)-(\d+)(?=$|[.,;]| are)")
_ITEMS = re.compile(r"(?:list of|include) (?:up to (\d+)|(\d+)-(\d+))")
_ONE_OF = re.compile(r"must be one of (.*?)(?:\.\s|\.?$)", re.IGNORECASE)
_CONSTANT = re.compile(r"(?:must be|always) \"?([\w-]+)\"?$")
_UNLESS = re.compile(r"[Rr]equired if (\w+)(?: and (\w+))? (?:is|are)(?:n't| not) specified")
_CHARSETS = {  # the descriptions' wording of allowed characters -> the regular expression
    "Can contain only lowercase English letters, digits and underscores": r"[a-z0-9_]*",
    "Only characters A-Z, a-z, 0-9, _ and - are allowed": r"[A-Za-z0-9_-]*",
}


@dataclass(frozen=True)
class Rules:
    """Limits parsed from a field's description (None: not documented)."""

    min_len: int | None = None
    max_len: int | None = None
    unit: str = "characters"  # or "bytes" (UTF-8)
    after_entities: bool = False  # the length counts the text left after parse_mode markup
    min_value: int | None = None
    max_value: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] = ()
    constant: str | None = None  # the discriminator of a subtype ("type": must be "default")


@dataclass(frozen=True)
class Field:
    owner: str  # the method or type the field belongs to
    name: str
    types: tuple[str, ...]
    required: bool
    rules: Rules
    unless: tuple[str, ...] = ()  # "Required if inline_message_id is not specified"

    def is_required(self, present: Mapping[str, Any]) -> bool:
        if self.required:
            return True
        return bool(self.unless) and not all(name in present for name in self.unless)


@dataclass(frozen=True)
class Problem:
    """Why a nested value is invalid: where (``path``), why, in which type and field; ``text``
    is the complete description when Telegram's own wording is known."""

    path: str
    why: str
    owner: str = ""
    field: str = ""
    kind: str = ""  # "missing" for an absent required field
    text: str = ""


def _rules(name: str, types: list[str], description: str) -> Rules:
    found: dict[str, Any] = {}
    if types == ["String"]:
        if length := _LENGTH.search(description):
            found.update(min_len=int(length[1]), max_len=int(length[2]), unit=length[3].lower(),
                         after_entities="after entit" in description)
        for wording, pattern in _CHARSETS.items():
            if wording in description:
                found["pattern"] = re.compile(pattern)
        if one_of := _ONE_OF.search(description):
            found["choices"] = tuple(re.findall(r'"([^"]+)"', one_of[1]))
        if name == "type" and (constant := _CONSTANT.search(description)):
            found["constant"] = constant[1]
    elif types in (["Integer"], ["Float"]) and (bounds := _RANGE.search(description)):
        found.update(min_value=int(bounds[1]), max_value=int(bounds[2]))
    elif all(t.startswith("Array of ") for t in types) and (items := _ITEMS.search(description)):
        low, high = (0, items[1]) if items[1] else (items[2], items[3])
        found.update(min_items=int(low), max_items=int(high))
    return Rules(**found)


def fields_of(owner: str, fields: list[dict[str, Any]]) -> dict[str, Field]:
    """The spec's field list of a method or type, by name."""
    parsed: dict[str, Field] = {}
    for f in fields:
        unless = _UNLESS.search(f["description"])
        parsed[f["name"]] = Field(
            owner, f["name"], tuple(f["types"]), bool(f["required"]),
            _rules(f["name"], f["types"], f["description"]),
            tuple(n for n in unless.groups() if n) if unless else (),
        )
    return parsed


def visible_text(text: str, siblings: Mapping[str, Any], name: str) -> str:
    """The text a user sees: HTML tags removed and entities unescaped when it is parsed as HTML
    (``quote`` is parsed per ``quote_parse_mode``, ``text`` and ``caption`` per ``parse_mode``)."""
    mode = siblings.get(f"{name}_parse_mode", siblings.get("parse_mode"))
    if isinstance(mode, str) and mode.lower() == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text
