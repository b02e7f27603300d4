"""Intake throughput with 1 and 3 bot instances on one PostgreSQL, against one instance on SQLite.

    PYTHONPATH=. .venv/bin/python -m bench.instances [--quick] [--residents 100]

Telegram in webhook mode: the driver plays Telegram and POSTs each update to the webhook of an
instance picked at random (as a load balancer would), with the secret header; the instances send
their answers and the leaders' cards to the fake Bot API (bench/fake_telegram_server.py, its own
process). Residents file one report each in closed loop (bench/telegram_residents.py, the same
8-update script as bench/telegram_intake.py), with Telegram's flood limits widened
(bench/telegram_bot_runner.py) so the database is what is measured. The three runs go one after
the other in the same invocation: SQLite ×1, PostgreSQL ×1, PostgreSQL ×3 (a throwaway cluster,
tests/pg_cluster.py). Each run is verified in its database: one ticket per resident, every inbox
row done, every card sent once. Rate = updates / (first update posted → last answer accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from bench.common import (
    ROOT,
    Process,
    bot_env,
    free_port,
    run_cli,
    table_row,
    wait_healthy,
    write_config,
)
from bench.telegram_fake import TOKEN, FakeClient, fake_server
from bench.telegram_intake import WIDE_LIMITS, leader_ids, measured, rate, resident_scripts
from bench.telegram_residents import Chatter, Conversation, Step, converse
from tests.pg_cluster import Cluster

SECRET = "bench-webhook-secret-0123456789"
WEBHOOK_PATH = "/telegram/webhook"
LEADER_BASE = 5_000
RESIDENT_BASE = 100_000


class WebhookTelegram(FakeClient):
    """The fake Bot API plays Telegram: it builds each update as Telegram would (a button press
    carries the message it was on) and queues it; this relay takes the queue with getUpdates and
    POSTs each update to the webhook of an instance picked at random, as a load balancer does."""

    def __init__(self, fake: FakeClient, webhooks: list[str], seed: int = 17) -> None:
        super().__init__(fake.url, fake.session, fake.pid)
        self.webhooks = webhooks
        self.random = random.Random(seed)
        self.offset = 0
        self.lock = asyncio.Lock()

    async def _post(self, update: dict[str, Any]) -> None:
        for _ in range(50):  # an instance answers 5xx only while it cannot store: Telegram retries
            async with self.session.post(self.random.choice(self.webhooks), json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"update {update['update_id']} refused by every try")

    async def push(self, updates: list[dict[str, Any]]) -> dict[str, Any]:
        async with self.lock:
            pushed = await super().push(updates)
            async with self.session.post(f"{self.bot_url}{TOKEN}/getUpdates",
                                         json={"offset": self.offset, "timeout": 0}) as response:
                queued = (await response.json())["result"]
            if queued:
                self.offset = queued[-1]["update_id"] + 1
        await asyncio.gather(*(self._post(update) for update in queued))
        return pushed


def instance_config(work: Path, fake: FakeClient, port: int, storage: dict[str, str]) -> Path:
    folder = work / f"instance-{port}"
    folder.mkdir()
    return write_config(folder, {
        "telegram": {"base_url": fake.bot_url, "base_file_url": fake.file_url, "bot_username": "weifengshan_bot",
                     "mode": "webhook", "webhook_public_url": f"https://bench.example{WEBHOOK_PATH}",
                     "webhook_path": WEBHOOK_PATH},
        "http": {"host": "127.0.0.1", "port": port},
        "storage": storage,
    })


async def bind_leaders(telegram: WebhookTelegram, env: dict[str, str]) -> set[int]:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    outputs = [await run_cli(env, "invite", "--person", person) for person in leader_ids(config)]
    codes = [out.split("start=bind-", 1)[1].split()[0] for out in outputs]
    leaders = [Chatter(LEADER_BASE + k, [Step("text", f"/start bind-{code}", "绑定成功")])
               for k, code in enumerate(codes)]
    await converse(telegram, leaders)
    return {c.user for c in leaders}


async def run(work: Path, scripts: list[list[Step]], instances: int, storage: dict[str, str]
              ) -> tuple[Conversation, dict[str, Any]]:
    async with fake_server(work / "fake.log") as fake:
        ports = [free_port() for _ in range(instances)]
        configs = [instance_config(work, fake, port, storage) for port in ports]
        envs = [bot_env(c, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "WARNING"})
                for c in configs]
        # The first instance migrates the database before the others start (they would wait on
        # the migration lock anyway; this keeps start-up out of the measurement).
        await run_cli(envs[0], "check-config")
        bots = [Process(sys.executable, "-m", "bench.telegram_bot_runner", *WIDE_LIMITS, env=env,
                        log=work / f"bot-{port}.log") for env, port in zip(envs, ports, strict=True)]
        for bot in bots:
            await bot.__aenter__()
        try:
            await asyncio.gather(*(wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout=120) for port in ports))
            telegram = WebhookTelegram(fake, [f"http://127.0.0.1:{port}{WEBHOOK_PATH}" for port in ports])
            leaders = await bind_leaders(telegram, envs[0])
            chatters = [Chatter(RESIDENT_BASE + i, s) for i, s in enumerate(scripts)]
            conversation = await measured(converse(telegram, chatters, cards_to=leaders),
                                          {f"bot{n}": bot.pid for n, bot in enumerate(bots, 1)} | {"fake": fake.pid})
            stats = await fake.stats("新工单 #")
        finally:
            for bot in reversed(bots):
                await bot.__aexit__(None, None, None)
    return conversation, {**stats, "leaders": len(leaders)}


VERIFY = {
    "tickets": "SELECT COUNT(*) FROM tickets",
    "filers": "SELECT COUNT(DISTINCT resident_id) FROM tickets",
    "inbox_not_done": "SELECT COUNT(*) FROM inbox WHERE status <> 'done'",
    "cards_sent": "SELECT COUNT(*) FROM outbox WHERE kind = 'card' AND status = 'sent'",
    "card_dupes": "SELECT COUNT(*) FROM (SELECT ticket_id FROM outbox WHERE kind = 'card'"
                  " GROUP BY ticket_id, chat_id HAVING COUNT(*) > 1) AS twice",
}


async def counts(storage: dict[str, str]) -> dict[str, int]:
    if "url" in storage:
        conn = await asyncpg.connect(storage["url"])
        try:
            return {name: int(await conn.fetchval(sql)) for name, sql in VERIFY.items()}
        finally:
            await conn.close()
    import sqlite3

    with sqlite3.connect(f"file:{storage['database']}?mode=ro", uri=True) as conn:
        return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in VERIFY.items()}


async def statuses(storage: dict[str, str]) -> dict[str, dict[str, int]]:
    """Inbox and outbox rows by status (what a stalled run left)."""
    sql = {table: f"SELECT status, COUNT(*) FROM {table} GROUP BY status" for table in ("inbox", "outbox")}
    if "url" in storage:
        conn = await asyncpg.connect(storage["url"])
        try:
            return {table: {r[0]: r[1] for r in await conn.fetch(q)} for table, q in sql.items()}
        finally:
            await conn.close()
    import sqlite3

    with sqlite3.connect(f"file:{storage['database']}?mode=ro", uri=True) as conn:
        return {table: dict(conn.execute(q).fetchall()) for table, q in sql.items()}


def problems_of(found: dict[str, int], residents: int, stats: dict[str, Any]) -> list[str]:
    expected = {"tickets": residents, "filers": residents, "inbox_not_done": 0, "cards_sent": residents,
                "card_dupes": 0}
    wrong = [f"{k} {found[k]} (expected {v})" for k, v in expected.items() if found[k] != v]
    if stats.get("text_copies") != residents:
        wrong.append(f"cards accepted by the fake {stats.get('text_copies')} (expected {residents})")
    return wrong


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="30 residents")
    args = parser.parse_args()
    residents = 30 if args.quick else args.residents
    scripts = resident_scripts(residents)
    root = Path(tempfile.mkdtemp(prefix="bench-instances-"))
    cluster = Cluster.start()
    results: dict[str, float] = {}
    problems: list[str] = []
    try:
        for name, instances in (("SQLite ×1", 1), ("PostgreSQL ×1", 1), ("PostgreSQL ×3", 3)):
            work = root / name.replace(" ×", "-")
            work.mkdir()
            if name.startswith("SQLite"):
                storage = {"database": str(work / "bot.db")}
            else:
                storage = {"database": str(work / "unused.db"), "url": await cluster.create(work.name.lower())}
            try:
                conversation, stats = await run(work, scripts, instances, storage)
            except TimeoutError as exc:  # a stall is a result too: say where the rows stand
                problems.append(f"{name}: {exc}; rows by status {await statuses(storage)}")
                print(f"{name}: {problems[-1]}; load average {os.getloadavg()[0]:.1f}", flush=True)
                continue
            results[name] = rate(conversation)
            problems += [f"{name}: {p}" for p in problems_of(await counts(storage), residents, stats)]
            seconds = conversation.finished_at - conversation.started_at
            cpu = ", ".join(f"{who} {used:.1f}" for who, used in conversation.cpu.items())
            print(f"{name}: {conversation.updates} updates in {seconds:.2f} s = {results[name]:.1f} updates/s;"
                  f" CPU s: {cpu}; load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        cluster.stop()
    print("verified in each database: " + ("; ".join(problems) if problems else
          f"{residents} tickets from {residents} residents; every inbox row done; {residents} cards sent, each once"))
    base = results.get("SQLite ×1", 0.0)
    for name in ("PostgreSQL ×1", "PostgreSQL ×3"):
        measured_rate = results.get(name)
        shown = f"{measured_rate:.1f} updates/s ({residents} residents)" if measured_rate else "stalled"
        ratio = measured_rate / base if measured_rate and base else 0.0
        print(table_row(f"Intake, webhook, {name} (issue 17)", shown, f"{base:.1f} updates/s (SQLite ×1, same run)",
                        ratio, "recorded (no target yet)", not any(p.startswith(name) for p in problems)))


if __name__ == "__main__":
    asyncio.run(main())
