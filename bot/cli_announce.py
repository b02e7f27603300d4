"""`fengshan-bot announce …` and `fengshan-bot announcements [--cancel N]`: the same as in chat."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from bot.bootstrap import build_app
from bot.config import Config
from handlers.announce import new_announcement, parse_signup, resolve_target
from handlers.announce_edit import cancel_and_tell
from handlers.domain.schedule_rules import RuleError, parse_when
from handlers.formatting import clip, local_time
from storage import announcements as store
from storage.clock import SystemClock

EXIT_USAGE = 2


async def announce(config: Config, database: Path, text: str, target_text: str,
                   when_text: str, signup_text: str | None) -> int:
    clock = SystemClock()
    now, tz = clock.now(), config.subdistrict.timezone
    target = resolve_target(config, target_text)
    if target is None:
        print(f"unknown target {target_text!r}: use all, a community id (longchi) or a grid id (G07)",
              file=sys.stderr)
        return EXIT_USAGE
    if not text.strip() or len(text) > 1500:
        print("the text must be 1-1500 characters", file=sys.stderr)
        return EXIT_USAGE
    try:
        when = parse_when(when_text, now, tz)
    except RuleError as exc:
        print(f"--when {when_text!r}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    signup = None
    if signup_text and when.repeating:
        print("--signup: a repeating announcement cannot carry a sign-up; schedule the activity once",
              file=sys.stderr)
        return EXIT_USAGE
    if signup_text:
        signup = parse_signup(signup_text, now, tz, when.first_run_at)
        if signup is None:
            print(f"--signup {signup_text!r}: use \"30 12-06 09:00\" (places, start after the post)",
                  file=sys.stderr)
            return EXIT_USAGE
    app = await build_app(config, clock, database)
    try:
        async with app.db.transaction() as conn:
            announcement_id = await store.create(
                conn, new_announcement(config, text.strip(), target, when, "cli", "cli", signup), now)
    finally:
        await app.close()
    repeat = f"，重复规则 {when.cron}" if when.cron else ""
    print(f"公告 #{announcement_id} 已安排：{local_time(when.first_run_at, tz)} 发送{repeat}（运行中的机器人会按时发出）")
    return 0


async def announcements(config: Config, database: Path, cancel: int | None) -> int:
    clock = SystemClock()
    tz = config.subdistrict.timezone
    app = await build_app(config, clock, database)
    try:
        if cancel is not None:
            async with app.db.transaction() as conn:
                found = await store.get(conn, cancel)
                done, told, notes = (await cancel_and_tell(conn, app.services, found, clock.now()) if found
                                     else (False, 0, []))
                await app.engine.write_notifications(conn, notes, clock.now())  # those signed up are told
            told_line = f"，已通知 {told} 位报名的居民" if told else ""
            print(f"公告 #{cancel} 已取消{told_line}" if done else f"公告 #{cancel} 不存在或已不是待发送状态")
            return 0 if done else EXIT_USAGE
        async with app.db.read() as conn:
            for item in await store.recent(conn, 50):
                counts = Counter(d.status for d in await store.deliveries(conn, item.id))
                no_target = sum(1 for _, outcome, n in await store.runs(conn, item.id) if outcome == "sent" and n == 0)
                when = local_time(item.next_run_at, tz) if item.next_run_at else "-"
                print(f"#{item.id} [{item.status}] next {when} {item.cron or 'once'} → {item.target_kind}"
                      f" {item.target_id} | sent {counts['sent']} failed {counts['failed'] + counts['uncertain']}"
                      f" pending {counts['pending'] + counts['claimed'] + counts['sending']}"
                      f"{f' no-target runs {no_target}' if no_target else ''} | {clip(item.text, 30)}")
    finally:
        await app.close()
    return 0
