"""Each channel's message-size rule, handed to the engine by the wiring (bot/bootstrap.py): long texts
become several outbox rows at write time, so a retry never repeats a sent piece."""

from __future__ import annotations

from bot.channels.telegram.render import TEXT_LIMIT, split_text
from bot.channels.wechat.render import ROW_TEXT_BUDGET as WECHAT_ROW_BUDGET
from bot.channels.wechat.render import split_utf8
from bot.engine import TextSplitter, split_reply
from bot.sender import RESEND_MARKER_ROOM
from handlers.types import Channel, Reply


def split_telegram_row(text: str) -> list[str]:
    """Telegram counts 4096 UTF-16 units; room is left for the marker of a resent message."""
    return split_text(text, TEXT_LIMIT - RESEND_MARKER_ROOM)


def split_wechat_row(text: str) -> list[str]:
    """WeChat takes 2048 bytes, less room for the numbered options and the resend marker."""
    return split_utf8(text, WECHAT_ROW_BUDGET - RESEND_MARKER_ROOM)


# The console takes any length; WeCom robots split at send time.
SPLITTERS: dict[str, TextSplitter] = {
    Channel.TELEGRAM: split_telegram_row,
    Channel.WECHAT: split_wechat_row,
}


def split_for_channel(channel: str, reply: Reply) -> list[Reply]:
    """The outbox rows the engine writes for `reply` to a chat on `channel`."""
    return split_reply(reply, SPLITTERS.get(channel))
