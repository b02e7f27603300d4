"""Telegram's wording for the requests it refuses, and rules the spec states only per type.

Known wording (as the Bot API answers, e.g. "Bad Request: BUTTON_DATA_INVALID") is used where we
know it; otherwise the description names the parameter and why: "Bad Request: <path>: <why>".
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.telegram_fields import Field, Problem

PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})  # Telegram matches them case-insensitively
_KNOWN = {  # (method or type, field) -> Telegram's description for any refused value
    ("InlineKeyboardButton", "callback_data"): "Bad Request: BUTTON_DATA_INVALID",
    ("InlineKeyboardButton", "url"): "Bad Request: BUTTON_URL_INVALID",
    ("BotCommand", "command"): "Bad Request: BOT_COMMAND_INVALID",
    ("BotCommand", "description"): "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
    ("answerCallbackQuery", "text"): "Bad Request: MESSAGE_TOO_LONG",
}
_BUTTON = "Bad Request: can't parse inline keyboard button: "
# Everything but these selects what an inline button does; exactly one must be used.
_BUTTON_LOOKS = frozenset({"text", "icon_custom_emoji_id", "style"})
_BUTTON_URL = re.compile(r"(?i)(https?://[^\s/]+|tg://\S+)\S*")


def _is_method(owner: str) -> bool:
    return owner[:1].islower()  # methods are camelCase, types CamelCase


def unknown_parameter(method: str, name: str) -> str:
    return f"Bad Request: {name}: not a parameter of {method}"


def missing_parameter(method: str, field: Field) -> str:
    if field.name == "chat_id":
        return "Bad Request: chat_id is empty"
    if field.name == "text" and field.rules.after_entities:
        return "Bad Request: message text is empty"
    return f'Bad Request: parameter "{field.name}" is required'


def too_short(owner: str, name: str, path: str) -> str:
    if (owner, name) in _KNOWN:
        return _KNOWN[owner, name]
    if name == "text" and _is_method(owner):
        return "Bad Request: message text is empty"
    return f"Bad Request: {path}: must not be empty"


def too_long(owner: str, name: str, path: str, limit: int, unit: str) -> str:
    if (owner, name) in _KNOWN:
        return _KNOWN[owner, name]
    if name == "text" and _is_method(owner):
        return "Bad Request: message is too long"
    if name == "caption":
        return "Bad Request: message caption is too long"
    return f"Bad Request: {path}: must be at most {limit} {unit}"


def bad_value(owner: str, name: str, path: str, why: str) -> str:
    return _KNOWN.get((owner, name), f"Bad Request: {path}: {why}")


def problem(found: Problem) -> str:
    """The description for a parameter's (possibly nested) problem."""
    if found.text:
        return found.text
    if found.owner == "InlineKeyboardButton" and found.field:
        detail = (f'Can\'t find field "{found.field}"' if found.kind == "missing"
                  else f'Field "{found.field}" {found.why}')
        return _BUTTON + detail
    return f"Bad Request: {found.path}: {found.why}"


def object_rule(type_name: str, value: dict[str, Any], path: str) -> Problem | None:
    """Rules the spec states for a whole type rather than a field."""
    if type_name != "InlineKeyboardButton":
        return None
    actions = sorted(set(value) - _BUTTON_LOOKS)
    if not actions:
        return Problem(path, "", type_name, text=_BUTTON + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        return Problem(path, f"must use exactly one of {', '.join(actions)}", type_name)
    url = value.get("url")
    if isinstance(url, str) and not _BUTTON_URL.fullmatch(url):
        return Problem(f"{path}.url", "", type_name, "url", text=_KNOWN[type_name, "url"])
    return None
