"""Telegram intake throughput: residents filing reports end to end vs a bare PTB echo bot.

    PYTHONPATH=. .venv/bin/python -m bench.telegram_intake [--quick] [--residents 200] [--limits widened]

Each resident files one report through the whole flow (8 updates: /report, category, text,
address, building, flat skipped, no phone, 提交) against the real bot process polling a fake Bot API that runs
in its own process; the bot stores every getUpdates batch in one transaction before asking for
the next offset, handles each update from the inbox (dialog state, ticket, outbox rows), and
sends replies and the grid leader's card. Residents answer in closed loop: the next step is
pushed only when the bot's answer to the previous one has reached the fake (one cannot press a
button before seeing it). The baseline is bench/echo_bot.py, a bare PTB `Application`, with the
same number of residents sending the same number of updates, each waiting for its echo.
Rate = updates / (first update pushed → last answer or card accepted by the fake).

`--limits widened` (default) runs the bot with Telegram's flood limits opened up, as
tests/telegram_harness.py does: the echo bot has no limiter, so only then do both sides do the
same work. `--limits production` runs `python -m bot run` itself (30 msg/s overall, ~1/s per chat).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path

import yaml

from bench.common import (
    ROOT,
    Process,
    bot_env,
    bot_process,
    percentile,
    run_cli,
    table_row,
    write_config,
)
from bench.telegram_fake import TOKEN, FakeClient, cpu_seconds, fake_server
from bench.telegram_residents import Chatter, Conversation, Step, converse, echo_steps, report_steps

TARGET = 0.6
GRIDS = 8  # leaders G01..G08 are bound; residents' buildings are spread over their grids
CATEGORIES = ("水电维修", "矛盾化解", "环境卫生/垃圾分类", "民情收集", "其他")  # routed to the grid only
RESIDENT_BASE, LEADER_BASE = 100_000, 5_000
WIDE_LIMITS = ("--global-per-second", "1000000", "--private-burst", "1000000")


def resident_scripts(count: int) -> list[list[Step]]:
    """A distinct (building, category) per resident, so no report is offered 我也遇到 instead."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    addresses = [f"{compound['name']}{building}" for grid in config["grids"][:GRIDS]
                 for compound in grid["compounds"] for building in compound["buildings"]]
    if count > len(addresses) * len(CATEGORIES):
        raise SystemExit(f"at most {len(addresses) * len(CATEGORIES)} residents")
    return [report_steps(CATEGORIES[(i // len(addresses)) % len(CATEGORIES)],
                         f"{addresses[i % len(addresses)]}楼道灯坏了，居民{i}反映", addresses[i % len(addresses)])
            for i in range(count)]


def leader_ids(config: dict) -> list[str]:
    return [grid["leaders"][0]["id"] for grid in config["grids"][:GRIDS]]


async def run_echo(work: Path, scripts: list[list[Step]]) -> Conversation:
    async with fake_server(work / "fake-echo.log") as fake:
        echo = Process(sys.executable, "-m", "bench.echo_bot", "--base-url", fake.bot_url, "--token", TOKEN,
                       env=bot_env(work / "none.yaml", {}), log=work / "echo.log")
        async with echo:
            await fake.wait_until("call_getUpdates")
            chatters = [Chatter(RESIDENT_BASE + i, echo_steps(s)) for i, s in enumerate(scripts)]
            return await measured(converse(fake, chatters), {"echo bot": echo.pid, "fake": fake.pid})


async def bind_leaders(fake: FakeClient, env: dict[str, str], people: list[str]) -> set[int]:
    """`python -m bot invite --person …` for each leader, who then opens the /start bind-CODE link."""
    outputs = [await run_cli(env, "invite", "--person", people[0])]  # the first run creates the schema
    outputs += await asyncio.gather(*(run_cli(env, "invite", "--person", p) for p in people[1:]))
    codes = [re.search(r"start=bind-(\S+)", out).group(1) for out in outputs]  # type: ignore[union-attr]
    leaders = [Chatter(LEADER_BASE + k, [Step("text", f"/start bind-{code}", "绑定成功")])
               for k, code in enumerate(codes)]
    await converse(fake, leaders)
    return {c.user for c in leaders}


async def run_bot(work: Path, scripts: list[list[Step]], limits: str, extra: tuple[str, ...] = ()) -> tuple[Conversation, dict[str, object]]:
    config_data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    async with fake_server(work / "fake-bot.log") as fake:
        config = write_config(work, {
            "telegram": {"base_url": fake.bot_url, "base_file_url": fake.file_url,
                         "bot_username": "weifengshan_bot", "poll_timeout": 1},
            "storage": {"database": str(work / "bot.db")}})
        env = bot_env(config, {"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"})
        bot = (bot_process(env, work / "bot.log") if limits == "production" else
               Process(sys.executable, "-m", "bench.telegram_bot_runner", *WIDE_LIMITS, *extra, env=env,
                       log=work / "bot.log"))
        async with bot:
            await fake.wait_until("commands_set")
            leaders = await bind_leaders(fake, env, leader_ids(config_data))
            chatters = [Chatter(RESIDENT_BASE + i, s) for i, s in enumerate(scripts)]
            conversation = await measured(converse(fake, chatters, cards_to=leaders),
                                          {"bot": bot.pid, "fake": fake.pid})
            stats = await fake.stats("新工单 #")
    return conversation, {**stats, "leaders": len(leaders)}


async def measured(run: Awaitable[Conversation], pids: dict[str, int]) -> Conversation:
    """The conversation, with the CPU time each process (and this driver) spent on it."""
    pids = {**pids, "driver": os.getpid()}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    conversation = await run
    conversation.cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return conversation


def verify(db: Path, residents: int, updates: int, stats: dict[str, object]) -> list[str]:
    """Problems found in the bot's database and at the fake after the run; empty when all is well."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        tickets = one("SELECT COUNT(*) FROM tickets")
        filers = one("SELECT COUNT(DISTINCT resident_id) FROM tickets")
        twice = one("SELECT COUNT(*) FROM (SELECT resident_id FROM tickets GROUP BY resident_id HAVING COUNT(*) > 1)")
        inbox = dict(conn.execute("SELECT status, COUNT(*) FROM inbox WHERE channel = 'telegram' GROUP BY status"))
        cards = dict(conn.execute("SELECT status, COUNT(*) FROM outbox WHERE kind = 'card' GROUP BY status"))
        card_dupes = one("SELECT COUNT(*) FROM (SELECT ticket_id FROM outbox WHERE kind = 'card'"
                         " GROUP BY ticket_id, chat_id HAVING COUNT(*) > 1)")
    problems = []
    if tickets != residents or filers != residents or twice:
        problems.append(f"tickets {tickets}, residents who filed {filers}, residents with 2+ tickets {twice}")
    if set(inbox) != {"done"} or inbox["done"] != updates + int(str(stats["leaders"])):
        problems.append(f"inbox rows by status {inbox}, expected {updates} + leader binds, all done")
    if set(cards) != {"sent"} or cards["sent"] != residents or card_dupes:
        problems.append(f"leader card rows by status {cards} (duplicated {card_dupes}), expected {residents} sent")
    if stats["text_copies"] != residents:
        problems.append(f"cards accepted by the fake: {stats['text_copies']}, expected {residents}")
    return problems


def rate(conv: Conversation) -> float:
    return conv.updates / (conv.finished_at - conv.started_at)


def describe(name: str, conv: Conversation) -> str:
    seconds = conv.finished_at - conv.started_at
    steps = conv.latencies
    cpu = ", ".join(f"{who} {used:.1f}" for who, used in conv.cpu.items())
    return (f"{name}: {conv.updates} updates in {seconds:.2f} s = {conv.updates / seconds:.1f} updates/s;"
            f" answer latency p50 {percentile(steps, 0.5) * 1000:.0f} ms, p95 {percentile(steps, 0.95) * 1000:.0f} ms;"
            f" CPU s: {cpu}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="40 residents")
    parser.add_argument("--rounds", type=int, default=0, help="echo/bot rounds (default 2, --quick 1)")
    parser.add_argument("--limits", choices=("widened", "production"), default="widened")
    parser.add_argument("--profile", help="cProfile the bot process (widened limits) into this file")
    parser.add_argument("--db-timing", action="store_true",
                        help="print the bot's database lock waits per transaction site (widened limits)")
    args = parser.parse_args()
    residents = 40 if args.quick else args.residents
    rounds = args.rounds or (1 if args.quick else 2)
    scripts = resident_scripts(residents)
    root = Path(tempfile.mkdtemp(prefix="bench-tg-intake-"))
    extra = (("--profile", args.profile) if args.profile else ()) + (("--db-timing",) if args.db_timing else ())
    echoes, bots, problems = [], [], []
    for number in range(1, rounds + 1):  # alternate, so both sides see the same neighbours on the machine
        work = root / f"round{number}"
        work.mkdir()
        echoes.append(await run_echo(work, scripts))
        bot, stats = await run_bot(work, scripts, args.limits, extra)
        bots.append(bot)
        problems += [f"round {number}: {p}" for p in verify(work / "bot.db", residents, bot.updates, stats)]
    print(f"residents {residents} x {len(scripts[0])} updates, closed loop; bot limits: {args.limits}; {rounds} round(s),"
          f" best of each side counts; work dir {root}")
    for number, (echo, bot) in enumerate(zip(echoes, bots, strict=True), start=1):
        print(f"round {number} " + describe("echo bot (PTB Application, no storage)", echo))
        print(f"round {number} " + describe("微丰山 (inbox → ticket → outbox → sent)", bot))
    echo_rate = max(rate(c) for c in echoes)
    bot_rate = max(rate(c) for c in bots)
    ratio = bot_rate / echo_rate
    print(f"bot (last round): {stats['sent']} messages sent ({stats['text_copies']} leader cards to"
          f" {stats['leaders']} leaders), {stats.get('call_getUpdates', 0)} getUpdates calls,"
          f" {stats.get('call_answerCallbackQuery', 0)} answerCallbackQuery")
    print("verified in the database after every round: " + ("; ".join(problems) if problems else
          f"{residents} tickets from {residents} residents, none twice; every inbox row done;"
          f" {residents} leader card rows sent, each once at the fake"))
    for line in (work / "bot.log").read_text().splitlines():
        if line.startswith("DBTIMING "):
            print("bot database:", line.removeprefix("DBTIMING "))
    measured = f"{bot_rate:.1f} updates/s ({residents} residents)"
    print(table_row("Telegram intake throughput", measured, f"{echo_rate:.1f} updates/s (PTB echo)", ratio,
                    f"≥ {TARGET}× echo, all durable", ratio >= TARGET and not problems))


if __name__ == "__main__":
    asyncio.run(main())
