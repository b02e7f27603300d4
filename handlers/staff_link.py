"""「工作台」 or /web in a bound staff member's private chat: a one-time link to the workplace.

The link is for that person only, valid for 10 minutes and used once (storage/web_sessions.py);
its token is a secret, so it goes to the private chat it was asked from and to no log.
Residents get a polite refusal.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.context import Context
from handlers.types import Reply
from storage import web_sessions

log = logging.getLogger(__name__)

LINK_VALID_FOR = timedelta(minutes=10)
SIGN_IN_PATH = "/staff/login"


def sign_in_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{SIGN_IN_PATH}?token={token}"


async def send_link(ctx: Context) -> None:
    if ctx.person is None:
        ctx.say(ctx.t("web_staff_only"))
        return
    token = await web_sessions.create_link(ctx.conn, ctx.person.id, ctx.now, LINK_VALID_FOR)
    url = sign_in_url(ctx.services.links.workplace_url, token)
    log.info("workplace sign-in link for %s via %s", ctx.person.id, ctx.incoming.channel)
    text = ctx.t("web_link", minutes=int(LINK_VALID_FOR.total_seconds() // 60))
    if url.startswith("https://"):
        ctx.outcome.say(Reply(text=text, link=url, link_label=ctx.t("web_link_label")))
    else:
        # A local trial (http://host:port): Telegram does not take a button to such an address,
        # and the message would be refused, so the link goes in the text.
        ctx.outcome.say(Reply(text=f"{text}\n{url}"))
