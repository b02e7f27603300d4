"""Printing for bench/load.py: rates per channel, card latency by route and by phase, CPU, checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile
from bench.load_telegram import Card
from bench.load_verify import Check, Timing


@dataclass
class Run:
    """Everything one run measured, for the report."""

    span: float  # first resident's start → last resident's ticket number, seconds
    drained: float  # then until the bot's outbox was empty
    tg_pushed: list[float]
    tg_answers: list[float]
    tg_sent: list[float]
    tg_counts: Counter[str]
    tg_stats: dict[str, Any]
    wx_sent: list[float]
    wx_latencies: list[float]
    wx_statuses: dict[int, int]
    wx_replies: int  # passive replies with a text (answers in the HTTP response)
    wx_deadline_replies: int
    wx_report: dict[str, Any]
    wx_cards: list[Card]
    wx_leaders: set[str]
    cpu: dict[str, float]
    cpu_window: float  # seconds the CPU was counted over (the run and the drain)
    errors: list[str] = field(default_factory=list)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def spread(values: list[float]) -> str:
    if not values:
        return "no values"
    return (f"p50 {ms(percentile(values, 0.5))}, p95 {ms(percentile(values, 0.95))}, "
            f"p99 {ms(percentile(values, 0.99))}, max {ms(max(values))} (n={len(values)})")


def peak_per_second(times: Iterable[float]) -> int:
    """Most events in any sliding one-second window."""
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def per_bucket(times: list[float], origin: float, width: float = 5.0) -> str:
    if not times:
        return "-"
    counts = Counter(int((t - origin) // width) for t in times if t >= origin)
    return " ".join(f"{counts.get(k, 0) / width:.0f}" for k in range(max(counts, default=0) + 1))


def rates(run: Run, origin: float) -> list[str]:
    s = run.span
    delivered = run.wx_report["delivered"]
    by_kind = Counter(("card " if d["touser"] in run.wx_leaders else "resident ")
                      + d["path"].rsplit("/", 2)[-2] for d in delivered)
    over, injected = run.tg_stats.get("429_over_limit", 0), run.tg_stats.get("429_injected", 0)
    return [
        f"achieved over {s:.1f} s (first start → last ticket number; outbox empty {run.drained:.1f} s later):",
        f"  Telegram in : {len(run.tg_pushed)} updates pushed = {len(run.tg_pushed) / s:.1f}/s;"
        f" {run.tg_stats.get('call_getUpdates', 0)} getUpdates calls,"
        f" {run.tg_stats.get('call_answerCallbackQuery', 0)} answerCallbackQuery",
        f"  Telegram answer to each step (update at the fake → reply at the fake): {spread(run.tg_answers)}",
        f"  Telegram out: {len(run.tg_sent)} messages = {len(run.tg_sent) / s:.1f}/s average,"
        f" peak {peak_per_second(run.tg_sent)} in any 1 s (limit 30); {dict(run.tg_counts)}",
        f"  Telegram out per second, 5 s buckets: {per_bucket(run.tg_sent, origin)}",
        f"  Telegram 429s: {over} over the fake's 30/s, {injected} injected;"
        f" retries {run.tg_stats.get('retries_honouring_429', 0)} polite,"
        f" {run.tg_stats.get('retries_too_early', 0)} too early",
        f"  WeChat in  : {len(run.wx_sent)} callbacks = {len(run.wx_sent) / s:.1f}/s; HTTP {run.wx_statuses};"
        f" {run.wx_replies} passive replies with text; round trip {spread(run.wx_latencies)};"
        f" deadline replies 「正在处理」 {run.wx_deadline_replies}",
        f"  WeChat out : {len(delivered)} pushes = {len(delivered) / s:.1f}/s {dict(by_kind)};"
        f" refused {run.wx_report['refused']}; tokens issued {run.wx_report['tokens_issued']};"
        f" calls {run.wx_report['attempts']}",
    ]


def latency(timings: list[Timing]) -> list[str]:
    lines = [f"提交 → leader's card at the fake, all: {spread([t.total for t in timings])}"]
    for route in sorted({t.route for t in timings}):
        lines.append(f"  {route:20}: {spread([t.total for t in timings if t.route == route])}")
    for phase in ("intake", "queued", "delivery"):
        lines.append(f"  phase {phase:9}: {spread([getattr(t, phase) for t in timings])}")
    slow = sorted(timings, key=lambda t: t.total)[-max(1, len(timings) // 100):]
    mean = {p: sum(getattr(t, p) for t in slow) / len(slow) for p in ("intake", "queued", "delivery")}
    lines.append(f"  slowest 1% ({len(slow)} tickets, {Counter(t.route for t in slow).most_common()}): mean "
                 + ", ".join(f"{p} {ms(v)}" for p, v in mean.items()))
    return lines


def cpu(run: Run) -> str:
    parts = ", ".join(f"{who} {used:.1f} s ({used / run.cpu_window:.0%})" for who, used in run.cpu.items())
    return f"CPU seconds (share of one core) over the {run.cpu_window:.0f} s of the run and drain: {parts}"


def checks(found: list[Check]) -> list[str]:
    return [f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in found]
