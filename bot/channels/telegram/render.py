"""The channel-neutral Reply → Telegram send parameters (plain text, no link previews)."""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
)

from handlers.buttons import MenuButton, decode
from handlers.types import Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Short labels two or three to a row, long ones alone, so buttons stay readable on phones."""
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    for button in buttons:
        per_row = 1 if len(button.text) > 8 else (3 if len(button.text) <= 4 else 2)
        if row and (len(row) >= per_row or len(row[0].text) > 8):
            rows.append(row)
            row = []
        row.append(button)
    if row:
        rows.append(row)
    return rows


def reply_markup(
    reply: Reply, menu_titles: tuple[str, ...]
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.main_keyboard and not reply.link and all(
        isinstance(decode(o.data), MenuButton) for o in reply.options
    ):
        # The three menus live on the persistent keyboard; their titles come back as text.
        return ReplyKeyboardMarkup(
            [[KeyboardButton(title) for title in menu_titles]], resize_keyboard=True, is_persistent=True
        )
    buttons = [
        InlineKeyboardButton(o.label, callback_data=o.data)
        for o in reply.options
        if len(o.data.encode()) <= CALLBACK_DATA_LIMIT
    ]
    if reply.link:
        buttons.append(InlineKeyboardButton(reply.link_label or reply.link, url=reply.link))
    return InlineKeyboardMarkup(_rows(buttons)) if buttons else None


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces within Telegram's limit, cut at line ends where possible (limit counts UTF-16 units)."""
    pieces: list[str] = []
    rest = text
    while _units(rest) > limit:
        cut = _fit(rest, limit)
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        pieces.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return [p for p in pieces if p] or [""]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of text fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)
