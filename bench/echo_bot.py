"""The baseline of bench/telegram_intake.py: a bare python-telegram-bot 22 echo bot.

    PYTHONPATH=. .venv/bin/python -m bench.echo_bot --base-url http://127.0.0.1:P/bot --token 123456:BENCH

An `Application` with one MessageHandler that answers every text with the same text, polling
with PTB's stock `run_polling` (defaults: updates handled one after another, confirmed on the
next poll whether or not the handler finished — no durability at all). Prints READY once polling.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.event_loop import loop_factory


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


async def announce_ready(application: Application) -> None:
    print("READY", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--poll-timeout", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    application = (Application.builder().token(args.token).base_url(args.base_url)
                   .post_init(announce_ready).build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    # The bot's own loop (bot/event_loop.py), so both sides of row 1 run on the same machinery.
    factory = loop_factory()
    if factory is not None:
        asyncio.set_event_loop(factory())
    application.run_polling(poll_interval=0.0, timeout=args.poll_timeout,
                            allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
