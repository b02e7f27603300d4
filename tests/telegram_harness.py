"""Runs the real Telegram channel (PTB over HTTP) against the fake Bot API, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.bootstrap import build_app
from bot.config import Config
from bot.config_channels import HttpSettings, TelegramSettings
from bot.ratelimit import ChatRateLimits
from bot.run_channels import run_channels
from bot.settings import Settings
from handlers.dispatcher import create_invite
from storage import outbox
from storage.clock import Clock
from storage.outbox import OutboxRow
from tests.bot_run import BotRun
from tests.fakes.telegram_api import FakeTelegramAPI, SentMessage


def config_for(config: Config, fake: FakeTelegramAPI, read_timeout: float = 10.0) -> Config:
    settings = TelegramSettings(base_url=f"{fake.url}/bot", base_file_url=fake.file_url,
                                bot_username=fake.bot_username, poll_timeout=1,
                                read_timeout=read_timeout)
    # The workplace's HTTP server listens on a port of the OS's choosing, so tests never collide,
    # unless the test chose the server's settings itself (the browser tests).
    http = HttpSettings(host="127.0.0.1", port=0) if config.http == HttpSettings() else config.http
    return config.model_copy(update={"telegram": settings, "http": http})


@dataclass
class TelegramRun(BotRun):
    fake: FakeTelegramAPI

    async def reply_to(self, chat_id: int, contains: str, after: int | None = None) -> SentMessage:
        """The next message to chat_id containing `contains`, sent after the `after`-th message."""
        return await self.fake.wait_for(
            lambda m: m.chat_id == chat_id and contains in (m.text or ""), after=after or 0,
        )

    async def press(self, user_id: int, label: str) -> int:
        """Press the newest button in user_id's chat whose label contains `label`."""
        for message in reversed(self.fake.messages_to(user_id)):
            for button in message.buttons:
                if label in button.get("text", "") and "callback_data" in button:
                    return self.fake.push_callback(user_id, button["callback_data"],
                                                   message_id=message.message_id)
        raise AssertionError(f"no button {label!r} in chat {user_id}")

    async def rows_when(self, chat_id: int, ready: Callable[[list[OutboxRow]], bool]) -> list[OutboxRow]:
        """The outbox rows for a chat, once `ready` holds (the sender works in the background)."""
        rows: list[OutboxRow] = []
        for _ in range(250):
            async with self.app.db.read() as conn:
                rows = await outbox.rows_for(conn, "telegram", str(chat_id))
            if ready(rows):
                return rows
            await asyncio.sleep(0.02)
        raise AssertionError(f"outbox rows for {chat_id} never got ready: {rows}")

    async def file_report(self, user_id: int, description: str, *, category: str = "水电维修",
                          phone: str = "13812345678") -> int:
        """A report in 龙池花园3栋 (grid G01), typed and tapped up to 提交 as a resident does;
        the count of sent messages before it, to wait for the confirmation and the card after."""
        fake, mark = self.fake, len(self.fake.sent)
        fake.push_text(user_id, "/report")
        await self.reply_to(user_id, "问题类别", after=mark)
        await self.press(user_id, category)
        await self.reply_to(user_id, "描述问题", after=mark)
        fake.push_text(user_id, description)
        await self.reply_to(user_id, "哪个社区", after=mark)
        fake.push_text(user_id, "龙池花园3号楼")
        await self.reply_to(user_id, "单元和门牌号", after=mark)  # issue 13: the flat, optional
        await self.press(user_id, "跳过")
        await self.reply_to(user_id, "留个电话", after=mark)
        fake.push_text(user_id, phone)
        await self.reply_to(user_id, "请确认", after=mark)
        await self.press(user_id, "提交")
        return mark

    async def bind(self, user_id: int, person_id: str) -> None:
        async with self.app.db.transaction() as conn:
            code = await create_invite(conn, person_id, self.app.clock.now())
        mark = len(self.fake.sent)
        self.fake.push_text(user_id, f"/bind {code}")
        await self.reply_to(user_id, "绑定成功", after=mark)


async def start_run(config: Config, fake: FakeTelegramAPI, clock: Clock, db: Path,
                    read_timeout: float = 10.0) -> TelegramRun:
    app = await build_app(config_for(config, fake, read_timeout), clock, db)
    stop = asyncio.Event()
    # Transcripts push faster than any person types; the per-chat burst is widened accordingly.
    settings = Settings(telegram_token=fake.token)
    task = asyncio.create_task(run_channels(app, settings, stop, ChatRateLimits(private_burst=100)))
    await fake.wait_for_call("setMyCommands")
    return TelegramRun(app=app, stop=stop, task=task, fake=fake)
