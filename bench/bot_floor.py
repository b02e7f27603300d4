"""`python -m bot run` that answers every WeChat callback without storing or handling it
(benchmarks only: bench.wechat_callbacks --floor).

Everything up to the intake is the bot's own: the process, the configuration, the HTTP server,
the checks (signature, freshness, nonce, decryption, XML), the passive reply and its encryption.
Only `WeChatIntake.receive` is replaced: it answers at once with a fixed text as long as a
typical reply of the report flow. Its CPU per callback is what the bot pays before its own work
begins; the bot's CPU less this is storing and handling (docs/benchmarks.md, "Stop 16").
"""

from __future__ import annotations

import sys

from bot.channels.wechat.intake import WeChatIntake
from bot.channels.wechat.messages import WeChatMessage
from bot.cli import main

# The category prompt with its numbered options: 97 characters, 219 bytes of UTF-8, as long as
# the report flow's passive replies in the benchmark (95 characters, 220 bytes on average).
REPLY = ("请选择要反映的问题类别：\n1. 水电维修\n2. 矛盾化解\n3. 环境卫生/垃圾分类\n4. 民情收集\n5. 其他\n"
         "6. 返回\n7. 取消\n回复数字 1-7 选择。\n您说的问题，我们会转给所在网格。")


async def answer_at_once(self: WeChatIntake, platform_id: str, xml: str, message: WeChatMessage) -> str:
    return REPLY


if __name__ == "__main__":
    WeChatIntake.receive = answer_at_once  # type: ignore[method-assign]
    sys.exit(main())
