"""Announcement fan-out: one announcement to 1,000 Telegram groups under Telegram-like flood control.

    PYTHONPATH=. .venv/bin/python -m bench.fanout [--quick] [--groups 1000] [--limit 30] [--inject 0.05]

The fake Bot API (bench/fake_telegram_server.py, its own process) accepts at most `--limit`
sends in any sliding second (more get 429 retry_after=1, as Telegram's flood control) and
answers a random `--inject` fraction of sends with 429 retry_after=1 as well. The groups are
bound with the bot's own storage functions (storage/groups.py) before it starts; the
announcement is posted with `python -m bot announce --when 立即`; then `python -m bot run` starts,
its scheduler finds the run due and fans it out. Measured at the fake: deliveries per second
from the first to the last group, against the limit itself (the best any sender can do).
Checked: every group got it exactly once, every outbox row is `sent`, every 429 was honoured.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import bot_env, bot_process, run_cli, table_row, write_config
from bench.telegram_fake import TOKEN, FakeClient, fake_server
from bot.bootstrap import open_storage
from storage import groups
from storage.clock import SystemClock

TARGET = 0.9
TEXT = "【公告】本周六上午 9 点丰山街道社区义诊，欢迎居民参加"
FIRST_GROUP = -1_000_000_000_001


async def bind_groups(db_path: Path, count: int) -> list[int]:
    """Bind `count` Telegram groups, spread over the communities, as /bindgroup would."""
    clock = SystemClock()
    db = await open_storage(db_path, clock)
    chats = [FIRST_GROUP - i for i in range(count)]
    communities = ("longchi", "nanqiao", "fengle", "gaoan")
    try:
        async with db.transaction() as conn:
            for i, chat in enumerate(chats):
                await groups.bind_group(conn, "telegram", str(chat), f"测试群 {i}", communities[i % 4], None,
                                        "bench", clock.now())
    finally:
        await db.close()
    return chats


async def wait_delivered(fake: FakeClient, count: int, timeout: float) -> dict[str, object]:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        stats = await fake.stats(TEXT)
        if int(stats.get("text_chats", 0)) >= count:
            await asyncio.sleep(2.0)  # anything sent twice would show up now
            return await fake.stats(TEXT)
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {stats.get('text_chats')} of {count} groups got it: {stats}")
        await asyncio.sleep(0.5)


def per_second(times: list[float]) -> list[int]:
    """How many deliveries the fake accepted in each whole second after the first one."""
    counts = [0] * (int(times[-1] - times[0]) + 1)
    for at in times:
        counts[int(at - times[0])] += 1
    return counts


def outbox_status(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM outbox WHERE kind = 'announcement'"
                                 " GROUP BY status"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="300 groups")
    parser.add_argument("--limit", type=int, default=30, help="sends per second the fake accepts")
    parser.add_argument("--inject", type=float, default=0.05, help="fraction of sends answered 429")
    args = parser.parse_args()
    count = 300 if args.quick else args.groups
    work = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    flags = ("--limit", str(args.limit), "--inject", str(args.inject))
    async with fake_server(work / "fake.log", *flags) as fake:
        config = write_config(work, {
            "telegram": {"base_url": fake.bot_url, "base_file_url": fake.file_url,
                         "bot_username": "weifengshan_bot", "poll_timeout": 1},
            "storage": {"database": str(work / "bot.db")}})
        env = bot_env(config, {"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"})
        chats = await bind_groups(work / "bot.db", count)
        posted = (await run_cli(env, "announce", "--text", TEXT, "--target", "all", "--when", "立即")).strip()
        async with bot_process(env, work / "bot.log"):
            stats = await wait_delivered(fake, count, timeout=count / args.limit * 3 + 60)
            times = sorted(m["at"] for m in await fake.sent(timeout=0) if TEXT in m["text"])
    statuses = outbox_status(work / "bot.db")
    first, last = float(stats["text_first_at"]), float(stats["text_last_at"])  # type: ignore[arg-type]
    rate = (count - 1) / (last - first)
    ratio = rate / args.limit
    lost = count - int(stats["text_chats"])  # type: ignore[call-overload]
    duplicated = int(stats["text_duplicated_chats"])  # type: ignore[call-overload]
    wrong_chats = set(stats["text_chat_ids"]) - set(chats)  # type: ignore[call-overload]
    injected, over = int(stats.get("429_injected", 0)), int(stats.get("429_over_limit", 0))
    honoured, early = int(stats.get("retries_honouring_429", 0)), int(stats.get("retries_too_early", 0))
    print(f"{count} groups, fake limit {args.limit}/s in any second, {args.inject:.0%} random 429; work dir {work}")
    print(f"CLI: {posted}")
    print(f"delivered {stats['text_chats']} groups in {last - first:.1f} s (first → last) = {rate:.1f}/s;"
          f" send requests {stats.get('send_requests')}")
    print("deliveries per second of the run: " + " ".join(str(n) for n in per_second(times)))
    print(f"429s: {injected} injected, {over} for exceeding {args.limit}/s; retries after a 429:"
          f" {honoured} waited retry_after, {early} came too early")
    print(f"lost {lost}, duplicated {duplicated}, unknown chats {len(wrong_chats)}; outbox rows {statuses}")
    ok = (ratio >= TARGET and lost == 0 and duplicated == 0 and not wrong_chats and early == 0
          and set(statuses) == {"sent"})
    print(table_row("Announcement fan-out (1 → groups, 30/s limit)", f"{rate:.1f} msg/s ({count} groups)",
                    f"{args.limit} msg/s (limit)", ratio, f"≥ {TARGET}× limit, 0 lost, 0 dup", ok))


if __name__ == "__main__":
    asyncio.run(main())
