"""Checks Bot API requests against the vendored spec (``tests/spec/telegram-bot-api-10.1.json``).

The fake Bot API runs every request through :func:`check_request` before serving it, so a call
the real Telegram would refuse fails the test that made it. Method and parameter names, required
parameters, JSON types (recursively through nested objects, arrays and abstract types) and the
limits the descriptions document ("1-4096 characters", "1-64 bytes", "Values between 1-100",
"list of 1-100", "Can contain only lowercase English letters, ...", "must be one of ...") come
from the spec, so the checks grow with it; :mod:`tests.fakes.telegram_wording` words the refusals
as Telegram does where we know its wording.

Choices where the spec leaves Telegram's behaviour open:

- "characters" are counted in UTF-16 code units (as Telegram measures entity offsets). That is at
  least the count of code points, so a text that passes here passes Telegram either way.
- "after entities parsing": with ``parse_mode`` HTML the tags are removed and entities unescaped;
  Markdown is counted as sent (an over-count: stricter, never laxer).
- A top-level parameter arrives as a string (form field, query string) or, in a JSON body, as
  any JSON value, which the Bot API server reads as its JSON text; either way it is then read
  per its spec type ("42" is an Integer, "true" a Boolean, '{"inline_keyboard": ...}' an object).
- Inside a JSON-serialized object the JSON types must match the spec exactly (Telegram would also
  take a number for a String): the spec's type is the contract.
- Unknown parameters, unknown fields of nested objects and unknown ``allowed_updates`` kinds are
  refused. Telegram ignores them silently, which hides a typo such as ``callback`` for
  ``callback_data`` until a user taps (or ``my_chat_members`` until a group is never seen).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakes import telegram_wording as wording
from tests.fakes.telegram_fields import Field, Problem, fields_of, visible_text

SPEC_PATH = Path(__file__).resolve().parent.parent / "spec" / "telegram-bot-api-10.1.json"
_SCALARS = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
JSONDict = dict[str, Any]


class SpecViolation(Exception):
    """A request Telegram would refuse: ``status`` and ``description`` as the Bot API answers."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


@dataclass(frozen=True)
class _Type:
    name: str
    fields: dict[str, Field] | None  # None: no fields listed (e.g. CallbackGame: any object)
    subtypes: tuple[str, ...]


class BotApiSpec:
    """The methods and types of one Bot API version, with the rules parsed from descriptions."""

    def __init__(self, data: JSONDict) -> None:
        self.version = str(data.get("version", ""))
        self.methods = {name: fields_of(name, m.get("fields", [])) for name, m in data["methods"].items()}
        self._by_lower = {name.lower(): name for name in self.methods}  # methods are case-insensitive
        self.types = {name: _Type(name, fields_of(name, t["fields"]) if "fields" in t else None,
                                  tuple(t.get("subtypes", ())))
                      for name, t in data["types"].items()}

    def method(self, name: str) -> str | None:
        """The method's spelling in the spec, or None when the Bot API has no such method."""
        return self._by_lower.get(name.lower())

    # ---------------------------------------------------------------- requests
    def check(self, method: str, params: Mapping[str, Any]) -> JSONDict:
        """Raise :class:`SpecViolation` unless the request is valid; return the typed params.

        ``params`` maps names to what arrived: ``str`` (form field, query string), ``bytes``
        (an uploaded file) or any JSON value (a JSON body)."""
        name = self.method(method)
        if name is None:
            raise SpecViolation(404, "Not Found")
        fields = self.methods[name]
        raw = {k: v if isinstance(v, str | bytes) else json.dumps(v) for k, v in params.items()}
        attached = {m for v in raw.values() if isinstance(v, str) for m in re.findall(r"attach://([\w-]+)", v)}
        for key, value in raw.items():
            if key not in fields and not (isinstance(value, bytes) and key in attached):
                raise SpecViolation(400, wording.unknown_parameter(name, key))
        typed: JSONDict = {}
        for key, field in fields.items():
            if key in raw:
                typed[key] = self._top_level(field, raw[key])
        for key, field in fields.items():
            if key not in typed and field.is_required(typed):
                raise SpecViolation(400, wording.missing_parameter(name, field))
            if key in typed:
                self._rules(name, field, typed[key], typed, key)
        self._update_kinds(typed.get("allowed_updates"))
        return typed

    def _update_kinds(self, kinds: Any) -> None:
        """allowed_updates names fields of Update; Telegram ignores a misspelt one, so the bot
        would silently never receive those updates: refused here."""
        known = set(self.types["Update"].fields or {}) - {"update_id"}
        for kind in kinds if isinstance(kinds, list) else []:
            if kind not in known:
                raise SpecViolation(400, f'Bad Request: allowed_updates: unknown update type "{kind}"')

    def _top_level(self, field: Field, raw: str | bytes) -> Any:
        best: tuple[int, Problem] | None = None
        for type_ in field.types:
            value = _read_form(raw, type_)
            if value is _NO:
                fit, problem = -1, Problem(field.name, f"must be {' or '.join(field.types)}")
            else:
                try:
                    self._value(value, type_, field.name)
                except _Mismatch as mismatch:
                    fit, problem = self._fit(value, type_), mismatch.problem
                else:
                    return value
            if best is None or fit > best[0]:
                best = (fit, problem)
        assert best is not None
        raise SpecViolation(400, wording.problem(best[1]))

    # ---------------------------------------------------------------- nested values
    def _value(self, value: Any, type_: str, path: str, owner: str = "") -> None:
        """Raise :class:`_Mismatch` unless ``value`` (decoded JSON) is a valid ``type_``."""
        if type_.startswith("Array of "):
            if not isinstance(value, list):
                raise _Mismatch(Problem(path, f"must be {type_}", owner, _leaf(path)))
            for index, item in enumerate(value):
                self._value(item, type_[len("Array of "):], f"{path}[{index}]", owner)
        elif type_ in _SCALARS:
            if not _is_scalar(value, type_):
                raise _Mismatch(Problem(path, f"must be of type {type_}", owner, _leaf(path)))
        else:
            self._object(value, self.types[type_], path)

    def _object(self, value: Any, type_: _Type, path: str) -> None:
        if type_.subtypes:
            self._union(value, type_.subtypes, path)
            return
        if not isinstance(value, dict):
            raise _Mismatch(Problem(path, f"must be of type {type_.name}", type_.name))
        if type_.fields is None:
            return
        for key in value:
            if key not in type_.fields:
                raise _Mismatch(Problem(f"{path}.{key}", f"is not a field of {type_.name}", type_.name))
        for key, field in type_.fields.items():
            if key not in value:
                if field.is_required(value):
                    raise _Mismatch(Problem(f"{path}.{key}", "is required", type_.name, key, "missing"))
                continue
            self._union(value[key], field.types, f"{path}.{key}", type_.name)
            try:
                self._rules(type_.name, field, value[key], value, f"{path}.{key}")
            except SpecViolation as refused:
                raise _Mismatch(Problem(f"{path}.{key}", "", type_.name, key, text=refused.description)) from None
        if problem := wording.object_rule(type_.name, value, path):
            raise _Mismatch(problem)

    def _union(self, value: Any, types: tuple[str, ...], path: str, owner: str = "") -> None:
        """Valid when any of ``types`` takes it; else the closest one's problem."""
        best: tuple[int, _Mismatch] | None = None
        for type_ in types:
            try:
                self._value(value, type_, path, owner)
            except _Mismatch as mismatch:
                fit = self._fit(value, type_)
                if best is None or fit > best[0]:
                    best = (fit, mismatch)
            else:
                return
        assert best is not None
        raise best[1]

    def _fit(self, value: Any, type_: str) -> int:
        """How well ``value`` resembles ``type_`` (to report the likely intended type's problem)."""
        if type_.startswith("Array of "):
            return 1 if isinstance(value, list) else -1
        if type_ in _SCALARS:
            return 1 if _is_scalar(value, type_) else -1
        spec = self.types[type_]
        if spec.subtypes:
            return max(self._fit(value, sub) for sub in spec.subtypes)
        if not isinstance(value, dict):
            return -1
        known = spec.fields or {}
        score = sum(1 if key in known else -1 for key in value)
        return score + sum(2 for f in known.values() if f.rules.constant and value.get(f.name) == f.rules.constant)

    # ---------------------------------------------------------------- documented limits
    def _rules(self, owner: str, field: Field, value: Any, siblings: Mapping[str, Any], path: str) -> None:
        rules = field.rules
        if isinstance(value, str):
            text = visible_text(value, siblings, field.name) if rules.after_entities else value
            if rules.after_entities and not text.strip() and (rules.min_len or 0) > 0:
                raise SpecViolation(400, wording.too_short(owner, field.name, path))
            if rules.min_len is not None and rules.max_len is not None:
                size = len(text.encode()) if rules.unit == "bytes" else utf16_len(text)
                if size < rules.min_len:
                    raise SpecViolation(400, wording.too_short(owner, field.name, path))
                if size > rules.max_len:
                    raise SpecViolation(400, wording.too_long(owner, field.name, path, rules.max_len, rules.unit))
            if rules.pattern is not None and not rules.pattern.fullmatch(value):
                raise SpecViolation(400, wording.bad_value(owner, field.name, path, "has characters not allowed"))
            if (rules.choices or rules.constant) and value not in (rules.choices or (rules.constant,)):
                allowed = ", ".join(rules.choices or (rules.constant or "",))
                raise SpecViolation(400, wording.bad_value(owner, field.name, path, f"must be one of {allowed}"))
            if field.name.endswith("parse_mode") and value and value.lower() not in wording.PARSE_MODES:
                raise SpecViolation(400, "Bad Request: unsupported parse_mode")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            low, high = rules.min_value, rules.max_value
            if low is not None and high is not None and not low <= value <= high:
                raise SpecViolation(400, wording.bad_value(owner, field.name, path, f"must be between {low} and {high}"))
        elif isinstance(value, list) and rules.max_items is not None:
            low, high = rules.min_items or 0, rules.max_items
            if not low <= len(value) <= high:
                raise SpecViolation(400, wording.bad_value(owner, field.name, path, f"must have {low}-{high} items"))


class _Mismatch(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.why)
        self.problem = problem


_NO = object()


def _read_form(raw: str | bytes, type_: str) -> Any:
    """A top-level parameter's text read as ``type_`` (what the Bot API server does); _NO if it
    cannot be. Objects and arrays are JSON-decoded here and checked by the caller."""
    if isinstance(raw, bytes):
        return raw if type_ == "InputFile" else _NO
    if type_ == "String":
        return raw
    if type_ == "Integer":
        return int(raw) if _INTEGER.fullmatch(raw) else _NO
    if type_ == "Float":
        return float(raw) if _FLOAT.fullmatch(raw) else _NO
    if type_ == "Boolean":
        return _BOOLEANS.get(raw.lower(), _NO)
    if type_ == "InputFile":
        return raw if raw.startswith("attach://") else _NO
    try:
        return json.loads(raw)
    except ValueError:
        return _NO


def _is_scalar(value: Any, type_: str) -> bool:
    if type_ == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == "Boolean":
        return isinstance(value, bool)
    if type_ == "InputFile":
        return isinstance(value, bytes) or isinstance(value, str) and value.startswith("attach://")
    return isinstance(value, str)


def _leaf(path: str) -> str:
    """The field name a path ends with ("" for an array item)."""
    return path.rsplit(".", 1)[-1] if not path.endswith("]") else ""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and of our limits."""
    return len(text.encode("utf-16-le")) // 2


@cache
def load_spec(path: Path = SPEC_PATH) -> BotApiSpec:
    """The vendored spec, parsed once per process."""
    return BotApiSpec(json.loads(path.read_text(encoding="utf-8")))


def check_request(method: str, params: Mapping[str, Any]) -> JSONDict:
    """Check one request against the vendored spec; see :meth:`BotApiSpec.check`."""
    return load_spec().check(method, params)
