"""The staff workplace at scale: server time per request on the 1,000,000-ticket fixture.

    PYTHONPATH=. .venv/bin/python -m bench.workplace            # 1,000,000 tickets (row 4's fixture)
    PYTHONPATH=. .venv/bin/python -m bench.workplace --quick    # 100,000 tickets

The fixture is row 4's (bench/storage_fixture.py, cached under the temp dir; built here if
missing), copied to a work folder first so the run writes nothing into the shared cache. The
real app is built on the copy (bot.bootstrap.build_app, its clock pinned at the fixture's now),
the real workplace (bot/web, build_workplace through mount_workplace) is served by the bot's own
HttpServer on 127.0.0.1, and a subdistrict admin signs in through a one-time link
(storage/web_sessions.py) as 「工作台」 makes one. A middleware added by this benchmark times each
request on the server (handler start to response, no network) and reports it in a
`Server-Timing` header; requests go one at a time over a real socket. Pages:

- the ticket board's first page (`/staff/`) for the subdistrict admin, no filter, and with a
  state filter (`?status=acknowledged`): target p95 ≤ 100 ms;
- the ticket page of the ticket with the most events: p95 ≤ 50 ms;
- the subdistrict's 三率 dashboard for the fixture's year (DASHBOARD_PATH): p95 ≤ 1 s. The
  start-up step of bot/run_channels.py (the fold and, after migration 0030, every working-time
  ticket's office-hours durations) runs before serving and its first request is untimed (both
  printed apart, as is build_app's time, which includes migrating the copy); `--dashboard-only`
  times only the dashboard.
  With DASHBOARD_PATH empty the stand-in is what `fengshan-bot stats --period 2026` runs
  (handlers.stats.stats_text in a write transaction), timed in process around the call.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import aiosqlite
from aiohttp import web

from bench.common import ROOT, percentile, table_row
from bench.storage_scale import _fixture
from bot.app import App
from bot.bootstrap import build_app
from bot.config import load_config
from bot.config_channels import HttpSettings
from bot.http_server import HttpServer
from bot.web import mount_workplace
from handlers.dashboard import write_work_at_start
from handlers.staff_link import LINK_VALID_FOR
from handlers.stats import parse_period, stats_text
from storage import web_sessions
from storage.clock import FakeClock
from storage.db import fetch_one
from storage.stats import SUBDISTRICT

ADMIN = "sd-admin-1"  # a subdistrict admin of config.yaml: sees every ticket
# Point this at the workplace's 三率 page once it exists (e.g. "/staff/dashboard?period=2026");
# then the row times it over HTTP like the other pages instead of the stats_text stand-in.
DASHBOARD_PATH = "/staff/dashboard?period=2026"
BOARD_MS, TICKET_MS, DASHBOARD_MS = 100.0, 50.0, 1000.0


@web.middleware
async def server_timing(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
    """Time the handler (every middleware after this one included) and say so in a header: wall
    time, and the process's CPU time (its database thread included; requests come one at a
    time and nothing else runs in this process, so it is the request's own), which a machine
    shared with other work inflates far less."""
    started, cpu = time.perf_counter(), time.process_time()
    response = await handler(request)
    response.headers["Server-Timing"] = (f"app;dur={(time.perf_counter() - started) * 1000:.3f},"
                                         f" cpu;dur={(time.process_time() - cpu) * 1000:.3f}")
    return response


@dataclass
class Page:
    name: str
    target_ms: float
    server_ms: list[float]
    client_ms: list[float]
    cpu_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        cpu = (f"; CPU p50 {percentile(self.cpu_ms, 0.5):.1f} ms, p95 {percentile(self.cpu_ms, 0.95):.1f} ms"
               if self.cpu_ms else "")
        client = f"; client p95 {percentile(self.client_ms, 0.95):.1f} ms" if self.client_ms else ""
        return (f"  {self.name}: server p50 {percentile(self.server_ms, 0.5):.1f} ms, "
                f"p95 {percentile(self.server_ms, 0.95):.1f} ms{cpu}{client}")

    def row(self, tickets: int) -> str:
        p50, p95 = percentile(self.server_ms, 0.5), percentile(self.server_ms, 0.95)
        cpu = f", CPU p95 {percentile(self.cpu_ms, 0.95):.1f} ms" if self.cpu_ms else ""
        return table_row(f"workplace {tickets // 1000}k: {self.name}",
                         f"p95 {p95:.1f} ms (p50 {p50:.1f} ms{cpu}; server, {len(self.server_ms)} requests)",
                         f"target {self.target_ms:.0f} ms", p95 / self.target_ms, f"p95 ≤ {self.target_ms:.0f} ms",
                         p95 <= self.target_ms)


async def get_page(session: aiohttp.ClientSession, url: str, page: Page, requests: int, warm: int) -> None:
    for i in range(warm + requests):
        started = time.perf_counter()
        async with session.get(url, allow_redirects=False) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"{url}: {response.status} {body[:200]}")
            timing = response.headers["Server-Timing"]
        if i >= warm:
            wall, cpu = (float(part.split("dur=")[1]) for part in timing.split(","))
            page.client_ms.append((time.perf_counter() - started) * 1000)
            page.server_ms.append(wall)
            page.cpu_ms.append(cpu)


async def busiest_ticket(db_path: Path) -> tuple[int, int]:
    """(ticket id, events) of the ticket with the most events: the heaviest ticket page."""
    async with aiosqlite.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        row = await fetch_one(conn, "SELECT ticket_id, COUNT(*) AS n FROM ticket_events"
                              " GROUP BY ticket_id ORDER BY n DESC LIMIT 1")
    assert row is not None
    return int(row[0]), int(row[1])


async def main(args: argparse.Namespace) -> None:
    tickets = args.tickets or (100_000 if args.quick else 1_000_000)
    config_path = str(ROOT / "config.yaml")
    fixture, cached = await _fixture(config_path, tickets, tickets // 10, rebuild=False)
    work = Path(tempfile.mkdtemp(prefix="bench-workplace-"))
    path = work / "workplace.db"
    started = time.perf_counter()
    shutil.copyfile(fixture.path, path)  # the cache stays as built: this run's sessions go here
    print(f"fixture {fixture.path} ({'cached' if cached else 'built'}), copied to {path} in "
          f"{time.perf_counter() - started:.0f} s; now pinned at {fixture.now.isoformat()}", flush=True)
    config = load_config(config_path)
    clock = FakeClock(fixture.now)
    started = time.perf_counter()
    app = await build_app(config, clock, path)  # migrates the copy (0030's back-fill at 1 M: timed here)
    print(f"build_app (migrations included) {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    async with app.db.transaction() as conn:  # what bot/run_channels.py does before it serves
        written = await write_work_at_start(conn, config)
    print(f"start-up: office-hours durations of {written} tickets written in {time.perf_counter() - started:.1f} s",
          flush=True)
    async with app.db.read() as conn:
        web_tables = await fetch_one(conn, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'web_links'")
    if not (web_tables and web_tables[0]):
        # A cached fixture built from another migration history (its user_version passed 0020
        # without running it): rebuild it rather than measure a schema the bot never has.
        await app.close()
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(f"{fixture.path} lacks migration 0020's tables (built from another migration "
                         f"history): rebuild it with `python -m bench.storage_scale --rebuild"
                         f"{' --quick' if args.quick else ''}`")
    server = HttpServer(HttpSettings(host="127.0.0.1", port=0))
    server.app.middlewares.append(server_timing)
    mount_workplace(server, app)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    pages: list[Page] = []
    try:
        async with app.db.transaction() as conn:
            token = await web_sessions.create_link(conn, ADMIN, clock.now(), LINK_VALID_FOR)
        ticket_id, events = await busiest_ticket(path)
        # 127.0.0.1 is an address, not a domain: aiohttp keeps its cookies only when told to.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.post(f"{base}/staff/login", data={"token": token}, allow_redirects=False) as signed:
                if signed.status != 303:
                    raise RuntimeError(f"sign-in refused: {signed.status} {await signed.text()}")
            if DASHBOARD_PATH:  # the first request (its fold's first run on this copy): timed apart
                started = time.perf_counter()
                async with session.get(base + DASHBOARD_PATH) as first:
                    await first.read()
                print(f"first dashboard request {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
            for name, target, url in (
                    *((("ticket board, first page (subdistrict admin, no filter)", BOARD_MS, "/staff/"),
                       ("ticket board, status filter (处理中)", BOARD_MS, "/staff/?status=acknowledged"),
                       (f"ticket page (#{ticket_id}, {events} events)", TICKET_MS, f"/staff/tickets/{ticket_id}"))
                      if not args.dashboard_only else ()),
                    *((("三率 dashboard, subdistrict, a year", DASHBOARD_MS, DASHBOARD_PATH),)
                      if DASHBOARD_PATH else ())):
                page = Page(name, target, [], [])
                await get_page(session, base + url, page, args.requests, args.warm)
                pages.append(page)
                print(page.summary(), flush=True)
        if not DASHBOARD_PATH:
            pages.append(await stats_stand_in(app, clock, args.stats_requests))
    finally:
        await server.stop()
        await app.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("| benchmark | measured | baseline | ratio | target | ok |")
    print("|---|---|---|---|---|---|")
    for page in pages:
        print(page.row(tickets))


async def stats_stand_in(app: App, clock: FakeClock, requests: int) -> Page:
    """The subdistrict's 三率 for the fixture's year, as `fengshan-bot stats --period 2026` runs it."""
    now = clock.now()
    period = parse_period(str(now.year), now, app.services.timezone)
    assert period is not None
    page = Page(f"三率 subdistrict {now.year} (stand-in: stats_text, as `stats --period {now.year}`)",
                DASHBOARD_MS, [], [])
    for i in range(requests + 1):  # the first folds the fixture's events into the facts: not timed
        started, cpu = time.perf_counter(), time.process_time()
        async with app.db.transaction() as conn:
            await stats_text(conn, app.services, now, SUBDISTRICT, period)
        if i:
            page.server_ms.append((time.perf_counter() - started) * 1000)
            page.cpu_ms.append((time.process_time() - cpu) * 1000)
    print(page.summary(), flush=True)
    return page


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 100,000-ticket fixture")
    parser.add_argument("--tickets", type=int, help="fixture size (default 1,000,000; --quick 100,000)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--warm", type=int, default=5, help="untimed requests per page first")
    parser.add_argument("--stats-requests", type=int, default=10, help="timed runs of the 三率 stand-in")
    parser.add_argument("--dashboard-only", action="store_true", help="time only the 三率 dashboard")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (the database copy)")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
