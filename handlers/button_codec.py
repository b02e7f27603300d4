"""The machinery behind handlers/buttons.py: a button kind is a frozen dataclass with a FORMAT.

A kind declares how its data is spelled (``FORMAT = "t:{verb}:{ticket_id}"``) and its fields'
types; encoding, parsing and validation follow from that, so no kind parses a string by hand.
"""

from __future__ import annotations

import re
from dataclasses import fields
from functools import cache
from typing import ClassVar, get_type_hints

from handlers.formatting import ID_DIGITS, parse_id

DATA_LIMIT = 64  # bytes of UTF-8: Telegram's limit for callback_data
KEY = re.compile(r"[a-z0-9_]{1,40}")  # config's pattern for menu and item keys


def _id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**ID_DIGITS:
        raise ValueError(f"not an id: {value!r}")
    return value


def _valid(value: object, kind: type) -> bool:
    """A str field holds a config id: non-empty and printable; an enum field, one of its members."""
    if kind is str:
        return isinstance(value, str) and bool(value) and value.isprintable()
    return isinstance(value, kind)


def check_key(value: str) -> str:
    if not KEY.fullmatch(value):
        raise ValueError(f"not a key: {value!r}")
    return value


class Button:
    """A kind of button, as a frozen dataclass whose FORMAT spells its data.

    Each {field} of FORMAT is one dataclass field: an int is an id (`parse_id`), an enum one of
    its values, a str a config id (non-empty, printable; only the last field may hold ":").
    PREFIXES, what the data of this kind starts with, default to FORMAT's text before the
    first field; a prefix without a field after it is the whole data.
    """

    FORMAT: ClassVar[str]
    PREFIXES: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if not cls.PREFIXES:
            cls.PREFIXES = (cls.FORMAT.split("{", 1)[0],)

    def __post_init__(self) -> None:
        for name, kind in _fields(type(self)):
            value = getattr(self, name)
            if kind is int:
                _id(value)
            elif not _valid(value, kind):
                raise ValueError(f"{name}: {value!r}")

    def encode(self) -> str:
        return self.FORMAT.format(**{name: getattr(self, name) for name, _ in _fields(type(self))})

    @classmethod
    def parse(cls, data: str) -> Button:
        """The button for data of this kind; ValueError if its arguments are malformed."""
        found = _pattern(cls).fullmatch(data)
        if found is None:
            raise ValueError("malformed")
        values: dict[str, object] = {}
        for name, kind in _fields(cls):
            raw = found[name]
            if kind is int:
                number = parse_id(raw)
                if number is None:
                    raise ValueError(f"{name}: not an id")
                values[name] = number
            else:
                values[name] = kind(raw)
        return cls(**values)


@cache
def _fields(kind: type[Button]) -> tuple[tuple[str, type], ...]:
    hints = get_type_hints(kind)
    return tuple((f.name, hints[f.name]) for f in fields(kind))  # type: ignore[arg-type]


@cache
def _pattern(kind: type[Button]) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", kind.FORMAT)  # text, field, text, field, ..., text
    last = parts[-2] if len(parts) > 1 else ""
    regex = "".join(re.escape(part) if index % 2 == 0 else
                    f"(?P<{part}>{'.+' if part == last else '[^:]*'})"
                    for index, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


class Codec:
    """Decoding for a set of kinds: the kind the data claims (by its longest prefix), then its fields."""

    def __init__(self, kinds: tuple[type[Button], ...]) -> None:
        self.kinds = kinds
        by_prefix = sorted(((p, k) for k in kinds for p in k.PREFIXES), key=lambda pk: -len(pk[0]))
        # Looked up by key, not tried one by one (every update decodes its button): `whole` for
        # data that is exactly a prefix, `opening` for prefixes ending in ":" that data starts
        # with. Built in the order above, so where two kinds share a prefix the first one wins.
        self._whole: dict[str, type[Button]] = {}
        self._opening: dict[str, type[Button]] = {}
        for prefix, kind in by_prefix:
            self._whole.setdefault(prefix, kind)
            if prefix.endswith(":"):
                self._opening.setdefault(prefix, kind)
        self._longest = max((len(p) for p in self._opening), default=0)

    def claimed_kind(self, data: str) -> type[Button] | None:
        """The kind of button the data says it is, whether or not its arguments are valid: the
        longest prefix that is the whole data or, ending in ":", starts it."""
        if (kind := self._whole.get(data)) is not None:
            return kind
        end = data.rfind(":", 0, self._longest)  # no opening is longer: long data costs no more
        while end >= 0:  # the longest opening first: each ":" of the data, last to first
            if (kind := self._opening.get(data[:end + 1])) is not None:
                return kind
            end = data.rfind(":", 0, end)
        return None

    def decode(self, data: str) -> Button | None:
        """The button this data encodes, or None: unknown, malformed, forged, not canonical or too long."""
        if not data or len(data.encode("utf-8")) > DATA_LIMIT or not data.isprintable():
            return None
        kind = self.claimed_kind(data)
        if kind is None:
            return None
        try:
            button = kind.parse(data)
        except ValueError:
            return None
        return button if button.encode() == data else None
