"""Invite guessing over real Telegram: each wrong code is logged (never the code), an account is
capped after 5 failures an hour (a correct code too, across a restart), and a spike of failures
from many accounts tells the admins, at most once an hour. Time is the injected clock."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Config
from handlers.dispatcher import create_invite
from storage.clock import FakeClock
from tests.chat import query
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_harness import TelegramRun, start_run

GUESSER = 6001
ADMIN = 6900
INVALID = "邀请码无效或已过期"
CAPPED = "尝试次数过多，请一小时后再试"
WRONG_CODES = ("ZZZZ1111", "ZZZZ2222", "ZZZZ3333", "ZZZZ4444", "ZZZZ5555")


async def attempt(run: TelegramRun, user: int, text: str, expect: str) -> None:
    mark = len(run.fake.sent)
    run.fake.push_text(user, text)
    await run.reply_to(user, expect, after=mark)


async def invite(run: TelegramRun, person: str) -> str:
    async with run.app.db.transaction() as conn:
        return await create_invite(conn, person, run.app.clock.now())


async def bound(run: TelegramRun, user: int) -> str | None:
    rows = await query(run.app, "SELECT person_id FROM accounts WHERE external_id = ?", str(user))
    return rows[0][0] if rows else None


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "invite" in r.getMessage()]


async def test_wrong_codes_are_logged_and_capped_per_account_across_a_restart(
    config: Config, fake: FakeTelegramAPI, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    run = await start_run(config, fake, clock, tmp_path / "guess.db")
    try:
        # The three ways to send a code, all counted.
        forms = ("/bind {}", "绑定 {}", "/start bind-{}", "/bind {}", "绑定 {}")
        for form, code in zip(forms, WRONG_CODES, strict=True):
            await attempt(run, GUESSER, form.format(code), INVALID)
        logged = warnings(caplog)
        assert len(logged) == 5
        assert all("telegram" in line and str(GUESSER) in line for line in logged), logged
        assert not any(code in record.getMessage() for record in caplog.records for code in WRONG_CODES)
        # Capped: a sixth wrong code, and even a correct one, are refused.
        await attempt(run, GUESSER, "/bind ZZZZ6666", CAPPED)
        good = await invite(run, "g01-leader")
        await attempt(run, GUESSER, f"/bind {good}", CAPPED)
        assert await bound(run, GUESSER) is None
        assert await query(run.app, "SELECT used_at FROM invites WHERE code = ?", good) == [(None,)]
    finally:
        await run.close()

    # A restart does not reset the count.
    clock.advance(minutes=30)
    run = await start_run(config, fake, clock, tmp_path / "guess.db")
    try:
        await attempt(run, GUESSER, f"/bind {good}", CAPPED)
        assert await bound(run, GUESSER) is None
        # An hour after the failures the account may try again; the code still works.
        clock.advance(minutes=31)
        await attempt(run, GUESSER, f"/bind {good}", "绑定成功")
        assert await bound(run, GUESSER) == "g01-leader"
        assert not any(good in record.getMessage() for record in caplog.records)
    finally:
        await run.close()


async def test_a_spike_from_many_accounts_tells_the_admins_at_most_once_an_hour(
    run: TelegramRun, clock: FakeClock
) -> None:
    await run.bind(ADMIN, "sd-admin-1")

    def notices() -> list[str]:
        return [m.text or "" for m in run.fake.messages_to(ADMIN) if "过去一小时" in (m.text or "")]

    for user in range(7001, 7010):  # nine accounts: not yet a spike
        await attempt(run, user, "/bind WRONG123", INVALID)
    assert notices() == []
    await attempt(run, 7010, "/bind WRONG123", INVALID)  # the tenth
    notice = await run.reply_to(ADMIN, "过去一小时")
    assert "10 个账号" in (notice.text or "") and "WRONG123" not in (notice.text or "")
    for user in range(7011, 7016):  # more in the same hour: no second notice
        await attempt(run, user, "/bind WRONG123", INVALID)
    assert len(notices()) == 1
    clock.advance(minutes=61)
    mark = len(run.fake.sent)
    for user in range(7101, 7111):  # a new spike an hour later: told again
        await attempt(run, user, "/bind WRONG123", INVALID)
    await run.reply_to(ADMIN, "过去一小时", after=mark)
    assert len(notices()) == 2
    rows = await query(run.app, "SELECT kind, status FROM outbox WHERE chat_id = ? AND payload LIKE ?",
                       str(ADMIN), "%过去一小时%")
    assert [kind for kind, _ in rows] == ["admin_notice", "admin_notice"]
