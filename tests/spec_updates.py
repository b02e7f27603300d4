"""Minimal valid Bot API objects generated from the vendored spec (tests/spec/README.md).

Every `Update` field and every `Message` field of the spec becomes one update, built from the
required fields of its type, recursively; an abstract type (e.g. `BackgroundType`) takes one of
its subtypes. String fields whose description fixes the value ("always \"fill\"") or lists the
choices ("can be either \"private\", …") take that value, so a discriminated type parses. When
the vendored spec is replaced by a newer version the cases grow with it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parent / "spec" / "telegram-bot-api-10.1.json"
DATE = 1764100000
JSONDict = dict[str, Any]

_ALWAYS = re.compile(r'[Aa]lways "([^"]+)"')
_CHOICES = re.compile(r'(?:can be|one of|either)[^"]{0,20}"([^"]+)"')
_ALWAYS_NUMBER = re.compile(r"[Aa]lways (\d+)")
# The envelope of a message: who, where, when. Every generated message has these.
ENVELOPE = frozenset({"message_id", "date", "chat", "from"})


@cache
def spec() -> JSONDict:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def types() -> dict[str, JSONDict]:
    return spec()["types"]


def fields(type_name: str) -> list[JSONDict]:
    return types()[type_name].get("fields", [])


def _scalar(kind: str, field: JSONDict) -> Any:
    description = field.get("description", "")
    if kind == "String":
        found = _ALWAYS.search(description) or _CHOICES.search(description)
        return found.group(1) if found else f"x-{field['name']}"
    if kind == "Integer":
        found = _ALWAYS_NUMBER.search(description)
        if found:
            return int(found.group(1))
        return DATE if "date" in field["name"] else 1
    if kind == "Float":
        return 1.0
    if kind in ("Boolean", "True"):
        return True
    if kind == "False":
        return False
    return None


def _value(kind: str, field: JSONDict, depth: int, subtype: int) -> Any:
    if kind.startswith("Array of "):
        return [_value(kind.removeprefix("Array of "), field, depth, subtype)]
    scalar = _scalar(kind, field)
    if scalar is not None:
        return scalar
    return build(kind, depth=depth + 1, subtype=subtype)


def build(type_name: str, *, depth: int = 0, subtype: int = 0, **overrides: Any) -> JSONDict:
    """The smallest valid object of `type_name` (required fields only), with `overrides`."""
    if depth > 12:
        raise RecursionError(f"required fields of {type_name} recurse")
    spec_type = types()[type_name]
    if "subtypes" in spec_type:  # abstract: one of its concrete types
        return _one_of(spec_type["subtypes"], depth, subtype, overrides)
    out: JSONDict = {}
    for field in fields(type_name):
        if field["required"] and field["name"] not in overrides:
            out[field["name"]] = _value(field["types"][0], field, depth, 0)
    out.update(overrides)
    return out


def _one_of(subtypes: list[str], depth: int, subtype: int, overrides: JSONDict) -> Any:
    """The `subtype`-th concrete type whose required fields end (some refer back to the abstract
    type: RichTextBold holds a RichText); a type that may be a plain string (RichText) is one."""
    if "String" in subtypes and not overrides:
        return "x"
    options = [name for name in subtypes if name in types()]
    for name in options[subtype % len(options):] + options[:subtype % len(options)]:
        try:
            return build(name, depth=depth, **overrides)
        except RecursionError:
            continue
    raise RecursionError(f"no subtype of {subtypes} ends")


def user(user_id: int) -> JSONDict:
    return build("User", id=user_id, is_bot=False, first_name="居民")


def chat(chat_id: int, private: bool) -> JSONDict:
    if private:
        return build("Chat", id=chat_id, type="private", first_name="居民")
    return build("Chat", id=chat_id, type="supergroup", title="测试群")


def message(chat_id: int, user_id: int, private: bool, message_id: int, **content: Any) -> JSONDict:
    return build("Message", message_id=message_id, date=DATE, chat=chat(chat_id, private),
                 **{"from": user(user_id)}, **content)


@dataclass(frozen=True)
class MessageField:
    name: str
    description: str

    @property
    def is_service(self) -> bool:
        """The spec calls it a service message (a background set, a topic created, a payment)."""
        return "service message" in self.description.lower()

    @property
    def is_user_content(self) -> bool:
        """Something a person sends: "Message is a sticker", "Message contains paid media"."""
        text = self.description.removeprefix("Optional. ")
        return text.startswith(("Message is ", "Message contains ")) and not self.is_service


def message_fields() -> list[MessageField]:
    """Every field of Message except its envelope."""
    return [MessageField(f["name"], f["description"]) for f in fields("Message")
            if f["name"] not in ENVELOPE]


def message_field_value(name: str) -> Any:
    """A minimal valid value for one Message field."""
    field = next(f for f in fields("Message") if f["name"] == name)
    kind = field["types"][0]
    if name == "text":
        return "随便说说"
    if name == "caption":
        return "说明"
    if kind == "Message":  # reply_to_message: a minimal message of its own
        return build("Message", message_id=1, date=DATE, chat=build("Chat", id=1, type="private"))
    return _value(kind, field, 0, 0)


def update_fields() -> list[str]:
    return [f["name"] for f in fields("Update") if f["name"] != "update_id"]


def update_value(name: str, chat_id: int, user_id: int, private: bool, message_id: int) -> JSONDict:
    """A minimal valid object for one Update field, in the given chat where the type has one."""
    field = next(f for f in fields("Update") if f["name"] == name)
    kind = field["types"][0]
    if kind == "Message":
        return message(chat_id, user_id, private, message_id, text="你好")
    value = build(kind)
    if "chat" in value:
        value["chat"] = chat(chat_id, private)
    if "from" in value:
        value["from"] = user(user_id)
    if "user" in value and isinstance(value["user"], dict) and "is_bot" in value["user"]:
        value["user"] = user(user_id)
    return value
