"""Try scheduled announcements as an admin would: the real bot process, a fake Bot API on loopback.

    PYTHONPATH=. .venv/bin/python tools/try_announcements.py

Binds three groups, schedules an announcement two minutes ahead through the /announce chat
flow, restarts the bot in between, makes one group's send answer 429, and prints when each
group received it (takes about three minutes of real time).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from tests.fakes.telegram_api import FakeTelegramAPI

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 9001
GROUPS = {-1001: "longchi", -1002: "nanqiao", -1003: "G01"}
TEXT = "本周六上午 9 点社区义诊，欢迎参加"
TZ = ZoneInfo("Asia/Shanghai")


async def main() -> None:  # noqa: PLR0915 - one linear walkthrough
    work = Path(tempfile.mkdtemp(prefix="try-announce-"))
    async with FakeTelegramAPI() as fake:
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["telegram"] = {"base_url": f"{fake.url}/bot", "base_file_url": fake.file_url,
                              "bot_username": fake.bot_username, "poll_timeout": 1}
        config["storage"] = {"database": str(work / "bot.db")}
        (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "BOT_CONFIG": str(work / "config.yaml")}
        cli = [sys.executable, "-m", "bot"]
        invite = await asyncio.create_subprocess_exec(*cli, "invite", "--person", "sd-admin-1", env=env,
                                                       stdout=asyncio.subprocess.PIPE)
        code = (await invite.communicate())[0].decode().split("/bind ")[1].split()[0]

        async def start() -> asyncio.subprocess.Process:
            mark = len(fake.calls)
            bot = await asyncio.create_subprocess_exec(*cli, "run", env=env, stderr=asyncio.subprocess.DEVNULL)
            await fake.wait_for_call("setMyCommands", timeout=30, after=mark)
            return bot

        async def say(chat: int, text: str, expect: str, chat_type: str = "private") -> str:
            mark = len(fake.sent)
            fake.push_text(ADMIN, text, chat_id=chat, chat_type=chat_type)
            message = await fake.wait_for(lambda m: m.chat_id == chat and expect in (m.text or ""), after=mark)
            return message.text or ""

        def press(label: str) -> None:
            for message in reversed(fake.messages_to(ADMIN)):
                for button in message.buttons:
                    if label in button.get("text", "") and "callback_data" in button:
                        fake.push_callback(ADMIN, button["callback_data"], message_id=message.message_id)
                        return
            raise AssertionError(label)

        bot = await start()
        print("admin:", (await say(ADMIN, f"/bind {code}", "绑定成功")).splitlines()[0])
        for chat, area in GROUPS.items():
            print(f"group {chat}:", await say(chat, f"/bindgroup {area}", "已绑定", "group"))
        now = datetime.now(TZ)
        at = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
        await say(ADMIN, "/announce", "公告内容")
        await say(ADMIN, TEXT, "发到哪些群")
        mark = len(fake.sent)
        press("全部群")
        await fake.wait_for(lambda m: m.chat_id == ADMIN and "什么时候" in (m.text or ""), after=mark)
        await say(ADMIN, at.strftime("%H:%M"), "需要报名")
        mark = len(fake.sent)
        press("不需要报名")
        await fake.wait_for(lambda m: m.chat_id == ADMIN and "请确认" in (m.text or ""), after=mark)
        mark = len(fake.sent)
        press("确认发布")
        done = await fake.wait_for(lambda m: m.chat_id == ADMIN and "已安排" in (m.text or ""), after=mark)
        print(f"{datetime.now(TZ):%H:%M:%S} admin:", done.text)

        bot.terminate()
        print("restart: exit code", await bot.wait())
        bot = await start()
        fake.fail_next("sendMessage", status=429, retry_after=2, chat_id=-1002)
        print(f"{datetime.now(TZ):%H:%M:%S} one 429 (retry_after 2 s) armed for -1002; waiting for {at:%H:%M}")
        for chat in GROUPS:
            await fake.wait_for(lambda m, c=chat: m.chat_id == c and TEXT in (m.text or ""), timeout=200)
            print(f"{datetime.now(TZ):%H:%M:%S} arrived in {chat}")
        await asyncio.sleep(35)  # one more scheduler tick: nothing may arrive twice
        counts = {chat: len([m for m in fake.sent if m.chat_id == chat and TEXT in (m.text or "")]) for chat in GROUPS}
        print("copies per group:", counts)
        print("429 answered:", [c for c in fake.calls if c[0] == "sendMessage" and c[1].get("chat_id") == -1002
                                and TEXT in str(c[1].get("text"))].__len__(), "sendMessage calls to -1002")
        bot.terminate()
        print("exit code", await bot.wait())


if __name__ == "__main__":
    asyncio.run(main())
