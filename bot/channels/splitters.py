"""Each channel's message-size rule, handed to the engine by the wiring (bot/app.py): long texts
become several outbox rows at write time, so a retry never repeats a sent piece."""

from __future__ import annotations

from bot.channels.telegram_render import split_text
from bot.channels.wechat_render import split_row_text
from bot.engine import TextSplitter, split_reply
from handlers.types import Channel, Reply

# Telegram counts 4096 UTF-16 units; WeChat 2048 bytes, less room for the numbered options.
# The console takes any length; WeCom robots split at send time.
SPLITTERS: dict[str, TextSplitter] = {
    Channel.TELEGRAM: split_text,
    Channel.WECHAT: split_row_text,
}


def split_for_channel(channel: str, reply: Reply) -> list[Reply]:
    """The outbox rows the engine writes for `reply` to a chat on `channel`."""
    return split_reply(reply, SPLITTERS.get(channel))
