"""Try the WeChat channel as a new user would: the real bot process against stand-ins on loopback.

    PYTHONPATH=. .venv/bin/python tools/try_wechat.py

Starts a fake WeChat API (tests/fakes/wechat_api.py), runs `fengshan-bot run` in its own
process with a WeChat account configured (safe mode), then plays WeChat's side with signed,
AES-encrypted callbacks (tests/wechat_harness.py) and prints what each party saw.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

from storage.clock import SystemClock
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import AES_KEY, APP_ID, CALLBACK, TOKEN, WeChatPlatform, message_xml

ROOT = Path(__file__).resolve().parent.parent
RESIDENT, LEADER = "oResidentTry000000000000001", "oLeaderTry00000000000000001"
BILLION_LAUGHS = ('<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                  "<xml><Content>&b;</Content></xml>")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def number_of(text: str, label: str) -> str:
    return next(line.split(". ")[0] for line in text.splitlines() if line.endswith(f". {label}"))


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def main() -> None:  # noqa: PLR0915 - one linear walkthrough
    work = Path(tempfile.mkdtemp(prefix="try-wechat-"))
    async with FakeWeChatAPI() as fake, aiohttp.ClientSession() as session:
        port = free_port()
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["wechat"].update(app_id=APP_ID, api_base_url=fake.url)
        config["http"] = {"host": "127.0.0.1", "port": port}
        config["storage"] = {"database": str(work / "bot.db")}
        (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "WECHAT_TOKEN": TOKEN, "WECHAT_ENCODING_AES_KEY": AES_KEY,
               "WECHAT_APP_SECRET": fake.app_secret, "BOT_CONFIG": str(work / "config.yaml")}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        cli = [sys.executable, "-m", "bot"]
        invite = await asyncio.create_subprocess_exec(*cli, "invite", "--person", "g01-leader", env=env,
                                                       stdout=asyncio.subprocess.PIPE)
        output, _ = await invite.communicate()
        code = output.decode().split("绑定 ")[-1].strip()
        bot = await asyncio.create_subprocess_exec(*cli, "run", env=env)
        try:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            wx = WeChatPlatform(session, f"http://127.0.0.1:{port}{CALLBACK}", SystemClock())

            async def say(who: str, answer_coro: object) -> str:
                answer = await answer_coro  # type: ignore[misc]
                first = answer.text.splitlines()[0] if answer.text else answer.body
                print(f"  {who:8} ← {answer.status} in {answer.seconds * 1000:5.1f} ms: {first}")
                return str(answer.text)

            print("1. resident follows, taps 微服务 → 我要反映, reports in safe mode")
            await say("resident", wx.subscribe(RESIDENT))
            print("   leader binds:", (await wx.text(LEADER, f"绑定 {code}")).text)
            text = await say("resident", wx.click(RESIDENT, "i:report"))
            text = await say("resident", wx.text(RESIDENT, number_of(text, "水电维修")))
            await say("resident", wx.text(RESIDENT, "3栋楼道灯坏了"))
            text = await say("resident", wx.text(RESIDENT, "龙池花园3号楼"))
            text = await say("resident", wx.text(RESIDENT, number_of(text, "龙池花园3栋")))
            text = await say("resident", wx.text(RESIDENT, "13812345678"))
            submit = wx.text_fields(RESIDENT, number_of(text, "提交"))
            print("2. the same MsgId four times, concurrently")
            answers = await asyncio.gather(*(wx.post(submit) for _ in range(4)))
            print("  ", {a.text.splitlines()[0] for a in answers}, "tickets in db:",
                  count(work / "bot.db", "SELECT COUNT(*) FROM tickets"))
            card = await fake.wait_for(lambda c: (c.body or {}).get("touser") == LEADER and "新工单" in str(c.body))
            print("3. leader's card arrived as a push:", card.body["text"]["content"].splitlines()[0])  # type: ignore[index]
            await say("leader", wx.text(LEADER, "受理 1"))
            notice = await fake.wait_for(lambda c: (c.body or {}).get("touser") == RESIDENT and "受理" in str(c.body))
            print("   resident's push:", notice.body["text"]["content"].splitlines()[0])  # type: ignore[index]

            print("4. hostile callbacks (inbox rows before:", count(work / "bot.db", "SELECT COUNT(*) FROM inbox"), ")")
            body = message_xml(wx.text_fields(RESIDENT, "x"))
            good = wx.query(wx.timestamp(), "n")
            for name, params, payload in [
                ("bad signature", good | {"signature": "0" * 40}, body),
                ("stale timestamp", wx.query(str(int(time.time()) - 600), "n"), body),
                ("oversized body", good, "<xml>" + "x" * 70_000 + "</xml>"),
                ("XML bomb", good, BILLION_LAUGHS),
            ]:
                answer = await wx.post_raw(payload, params)
                print(f"   {name:16} → HTTP {answer.status} in {answer.seconds * 1000:.1f} ms")
            print("   inbox rows after:", count(work / "bot.db", "SELECT COUNT(*) FROM inbox"))

            print("5. the resident's window closes (no message or tap for 48 h); the leader resolves")
            with sqlite3.connect(work / "bot.db") as conn:
                conn.execute("UPDATE wechat_windows SET message_at = '2000-01-01T00:00:00.000000+00:00',"
                             " tap_at = '2000-01-01T00:00:00.000000+00:00'"
                             " WHERE openid = ?", (RESIDENT,))
            pushes_before = len(fake.pushes(RESIDENT))
            await say("leader", wx.text(LEADER, "办结 1 已更换灯泡"))
            await asyncio.sleep(1.0)
            with sqlite3.connect(work / "bot.db") as conn:
                rows = conn.execute("SELECT status, attempts, last_error FROM outbox WHERE chat_id = ?"
                                    " AND status = 'failed'", (RESIDENT,)).fetchall()
            print("   pushes to the resident since:", len(fake.pushes(RESIDENT)) - pushes_before)
            print("   outbox:", rows)
            text = await say("resident", wx.click(RESIDENT, "i:my_tickets"))
            print("   ", text.replace("\n", " / "))
        finally:
            bot.terminate()
            print("bot exit code:", await asyncio.wait_for(bot.wait(), timeout=20))


if __name__ == "__main__":
    asyncio.run(main())
