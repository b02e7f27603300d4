"""Binding a chat account to a staff person with a one-time invite code, guarded against guessing.

Every refused code is logged (channel and account, never the code) and counted in the database,
so a restart does not reset the count: an account with MAX_FAILURES refused codes in the last
hour is refused outright, a correct code included, until the hour has passed. When refused codes
come from many accounts at once (a distributed guess), the admins are told, at most once an hour.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.broadcast import admin_notices
from handlers.context import Context
from storage import accounts, invite_failures

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW = timedelta(hours=1)
SPIKE_ACCOUNTS = 10


async def bind_with_code(ctx: Context, code: str) -> None:
    """/bind CODE, 「绑定 CODE」 and /start bind-CODE."""
    if not code:
        ctx.say(ctx.t("bind_usage"))
        return
    channel, user_id, since = ctx.incoming.channel, ctx.incoming.user_id, ctx.now - WINDOW
    failures = await invite_failures.failures_of(ctx.conn, channel, user_id, since)
    if failures >= MAX_FAILURES:
        log.info("invite attempt by %s:%s refused: %d refused codes in the last hour", channel, user_id, failures)
        ctx.say(ctx.t("bind_capped"))
        return
    person_id = await accounts.redeem_invite(ctx.conn, code, channel, user_id, ctx.now)
    person = await accounts.get_person(ctx.conn, person_id) if person_id else None
    if person is None:
        await invite_failures.record_failure(ctx.conn, channel, user_id, ctx.now, since)
        log.warning("invite code refused for %s:%s (%d of %d allowed this hour)",
                    channel, user_id, failures + 1, MAX_FAILURES)
        await _tell_admins_of_a_spike(ctx)
        ctx.say(ctx.t("bind_invalid"))
        return
    ctx.say(ctx.t("bind_done", name=person.name, role=ctx.t(f"role_{person.role}")), main_keyboard=True)


async def _tell_admins_of_a_spike(ctx: Context) -> None:
    since = ctx.now - WINDOW
    counts = await invite_failures.failures_since(ctx.conn, since)
    if counts.accounts < SPIKE_ACCOUNTS:
        return
    alerted = await invite_failures.spike_alerted_at(ctx.conn)
    if alerted is not None and alerted > since:
        return
    await invite_failures.set_spike_alerted(ctx.conn, ctx.now)
    log.warning("invite codes refused for %d accounts (%d attempts) in the last hour; admins told",
                counts.accounts, counts.attempts)
    text = ctx.t("invite_spike", accounts=counts.accounts, attempts=counts.attempts)
    ctx.outcome.notifications.extend(await admin_notices(ctx.conn, text))
