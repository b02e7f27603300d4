"""The WeChat official account channel. Every channel package exposes the same parts: `Intake`
(its intake loop: callbacks stored, handled, answered passively or pushed), `Transport` (what
the outbox sender delivers through) and `split_text` (its renderer's message-size cut)."""

from bot.channels.wechat.api import WeChatAPI as API
from bot.channels.wechat.callback import WeChatCallback as Callback
from bot.channels.wechat.intake import WeChatIntake as Intake
from bot.channels.wechat.render import split_utf8 as split_text
from bot.channels.wechat.transport import WeChatTransport as Transport

__all__ = ["API", "Callback", "Intake", "Transport", "split_text"]
