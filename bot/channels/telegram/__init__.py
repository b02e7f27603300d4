"""The Telegram channel. Every channel package exposes the same parts: `Intake` (its intake
loops: getUpdates polling or the webhook's processing), `Transport` (what the outbox sender
delivers through) and `split_text` (its renderer's message-size cut)."""

from bot.channels.telegram.intake import TelegramIntake as Intake
from bot.channels.telegram.render import split_text
from bot.channels.telegram.transport import TelegramTransport as Transport
from bot.channels.telegram.transport import build_bot
from bot.channels.telegram.webhook import webhook_handler

__all__ = ["Intake", "Transport", "build_bot", "split_text", "webhook_handler"]
