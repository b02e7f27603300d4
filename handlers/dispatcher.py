"""One entry point for every channel: an Incoming in, replies and notifications out."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import router
from handlers.context import Context, Services
from handlers.rendering import display_name
from handlers.types import Incoming, Outcome
from storage import accounts
from storage.engine import Connection

INVITE_VALID_FOR = timedelta(days=7)


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, conn: Connection, incoming: Incoming, now: datetime) -> Outcome:
        """Handle one Incoming inside the caller's transaction; what it means is handlers.router's."""
        # A platform name is whatever its owner typed (newlines, bidi overrides): kept as one line.
        name = display_name(incoming.display_name)
        if incoming.is_group:
            account = await accounts.ensure_account(conn, incoming.channel, incoming.user_id, incoming.user_id,
                                                    name, now)
            ahead = None
        else:  # the router's first step loads the dialog: read with the account, one trip for both
            arrival = await accounts.ensure_account_with_dialog(conn, incoming.channel, incoming.user_id,
                                                                incoming.user_id, name, now)
            account, ahead = arrival.account, (arrival.dialog,) if arrival.dialog_read else None
        person = await accounts.get_person(conn, account.person_id) if account.person_id else None
        # Typed 取消 / 返回 steer private dialogs; in a group they are just chatter.
        normalised = incoming if incoming.is_group else router.normalise(incoming)
        ctx = Context(self.services, conn, now, normalised, account, person, Outcome(), ahead)
        await router.route(ctx)
        return ctx.outcome


async def create_invite(conn: Connection, person_id: str, now: datetime) -> str:
    return await accounts.create_invite(conn, person_id, now, INVITE_VALID_FOR)
