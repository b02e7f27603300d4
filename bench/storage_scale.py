"""Storage at scale: the bot's real queries on a database of 1,000,000 tickets and 100,000 residents.

    PYTHONPATH=. .venv/bin/python -m bench.storage_scale            # 1,000,000 tickets
    PYTHONPATH=. .venv/bin/python -m bench.storage_scale --quick    # 100,000 tickets

The fixture (bench/storage_fixture.py: two years of tickets with their events over the 39
grids of config.yaml) is built once per size under the temp dir and reused (`--rebuild`).
Measured, median of several runs, each the bot's own function: the deadline sweep (target
≤ 5 ms), 我的工单 (≤ 2 ms), a community's 三率 for a month (≤ 100 ms) and the subdistrict's
for a year (≤ 1 s), with EXPLAIN QUERY PLAN of the SQL each one ran; the database's bytes
per ticket; the VmRSS of `python -m bot run` on this database against a fake Bot API in
another process, next to the same bot on an empty database. Baseline of each row: its target
(ratio = measured / target, ✅ when ≤ 1). Indented detail entries (not table rows) time the
sweep's reads on their own: the tickets due for a look (migration 0022's watch_at) and, for
comparison, the older read of every watched ticket up to its category's horizon. The fixture's
"now" is pinned (bench/storage_fixture.PINNED_NOW), so a fixture built at any hour measures the
same; the sweep is timed at the tick one minute after it.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.common import ROOT, table_row
from bench.storage_fixture import PINNED_NOW, Fixture, build, load_cached, save_meta
from bench.storage_queries import Measured, catch_up, explain, run_all
from bench.storage_rss import bot_rss_kib
from bot.bootstrap import open_storage
from bot.config import load_config
from storage.clock import FakeClock


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 tickets / 10,000 residents")
    parser.add_argument("--tickets", type=int, help="tickets (default 1,000,000; --quick 100,000)")
    parser.add_argument("--residents", type=int, help="residents (default tickets / 10)")
    parser.add_argument("--reps", type=int, default=7, help="repetitions per query (median reported)")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached fixture")
    parser.add_argument("--no-rss", action="store_true", help="skip the bot-process memory part")
    parser.add_argument("--explain", choices=("all", "none"), default="all")
    return parser.parse_args()


async def _fixture(config_path: str, tickets: int, residents: int, rebuild: bool) -> tuple[Fixture, bool]:
    cached = None if rebuild else load_cached(tickets, residents)
    if cached is not None:
        return cached, True
    config = load_config(config_path)
    # Pinned: which tickets are near a deadline (and, in working time, how far a category's
    # horizon reaches) depends on the hour and weekday the fixture ends at.
    now = PINNED_NOW
    print(f"building the fixture: {tickets:,} tickets, {residents:,} residents …", flush=True)
    fixture = await build(config, tickets, residents, now)
    caught = await catch_up(str(fixture.path), config, now)
    print(f"  built in {fixture.build_seconds:.0f} s; catch-up sweep queued {caught} notices", flush=True)
    save_meta(fixture)
    return fixture, False


def _report(results: list[Measured], path: str, explain_all: bool) -> None:
    shown: set[str] = set()  # a statement's plan is printed once, where it first appears
    for result in results:
        times = ", ".join(f"{t:.2f}" for t in sorted(result.times_ms))
        print(f"\n### {result.name}: median {result.median_ms:.2f} ms (target ≤ {result.target_ms:g} ms)"
              f" over {len(result.times_ms)} runs [{times}]")
        if result.note:
            print(f"  {result.note}")
        if not explain_all:
            continue
        for key, (example, count) in result.statements.items():
            flat = " ".join(example.split())
            print(f"  SQL ×{count}: {flat[:160]}{' …' if len(flat) > 160 else ''}")
            if key in shown:
                print("    (plan as above)")
                continue
            shown.add(key)
            for line in explain(path, example):
                print(f"    {line}")


async def main() -> None:
    args = _args()
    tickets = args.tickets or (100_000 if args.quick else 1_000_000)
    residents = args.residents or max(tickets // 10, 100)
    config_path = str(ROOT / "config.yaml")
    config = load_config(config_path)
    fixture, cached = await _fixture(config_path, tickets, residents, args.rebuild)
    path = str(fixture.path)
    # Opening migrates: a newer migration (e.g. 0008's indexes) is applied to the cached file here.
    db = await open_storage(path, FakeClock(fixture.now))
    try:
        size = fixture.path.stat().st_size
        print(f"fixture {path} ({'cached' if cached else 'new'}, schema v{await db.schema_version()}):"
              f" {fixture.tickets:,} tickets, {fixture.events:,} events"
              f" ({fixture.events / fixture.tickets:.1f}/ticket), {fixture.residents:,} residents,"
              f" now = {fixture.now:%Y-%m-%d %H:%M} UTC")
        print(f"database size {size / 2**20:,.0f} MiB = {size / fixture.tickets:,.0f} bytes per ticket"
              " (ticket row + its events + all indexes + residents/accounts; no outbox/inbox rows)")
        results = await run_all(db, config, fixture.now, fixture.residents, args.reps)
    finally:
        await db.close()
    _report(results, path, args.explain == "all")
    if not args.no_rss:
        empty_kib, empty_up = await bot_rss_kib(None)
        full_kib, full_up = await bot_rss_kib(fixture.path)
        print(f"\nbot process VmRSS: {full_kib / 1024:.1f} MiB on this database (up and polling in"
              f" {full_up:.1f} s) vs {empty_kib / 1024:.1f} MiB on an empty one ({empty_up:.1f} s)")
    print()
    print("| benchmark | measured | baseline | ratio | target | ok |")
    print("|---|---|---|---|---|---|")
    for result in results:
        if result.name.startswith("  "):
            continue  # breakdown rows are detail only
        ratio = result.median_ms / result.target_ms
        print(table_row(f"storage_scale {fixture.tickets // 1000}k: {result.name}", f"{result.median_ms:.2f} ms",
                        f"target {result.target_ms:g} ms", ratio, f"≤ {result.target_ms:g} ms", ratio <= 1))


if __name__ == "__main__":
    asyncio.run(main())
