"""A fake Telegram Bot API in its own process, for the RSS part of bench/storage_scale.py.

    PYTHONPATH=. .venv/bin/python -m bench.storage_fake_telegram

Prints one JSON line {"url", "file_url", "token"} once listening, then "commands" when the
bot has registered its commands (it is up) and "polling" at its next getUpdates; runs until
terminated.
"""

from __future__ import annotations

import asyncio
import json
import signal

from tests.fakes.telegram_api import FakeTelegramAPI


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeTelegramAPI() as fake:
        print(json.dumps({"url": fake.url, "file_url": fake.file_url, "token": fake.token}), flush=True)
        await fake.wait_for_call("setMyCommands", timeout=600)
        print("commands", flush=True)
        mark = next(i for i, (name, _) in enumerate(fake.calls) if name == "setMyCommands")
        await fake.wait_for_call("getUpdates", timeout=600, after=mark + 1)
        print("polling", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
