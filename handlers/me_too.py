"""我也遇到: at the report summary, a resident may follow an open ticket of the same kind in the
same building instead of filing a new one.

The hint names those tickets by category, time and state only — never by what their reporters
wrote — and the ids offered are kept in the dialog: a press is accepted only for one of them,
whatever id its button data carries.
"""

from __future__ import annotations

import logging

from handlers.button_codec import Button
from handlers.buttons import MeTooButton, claimed_kind
from handlers.cards import category_name, notify_staff, status_name
from handlers.context import Context
from handlers.dialog_state import end_dialog
from handlers.flow_states import ReportState
from handlers.formatting import day_time
from handlers.routing import route
from storage import tickets
from storage.tickets import EventAction, Ticket

log = logging.getLogger(__name__)



def hint(ctx: Context, similar: list[Ticket]) -> str:
    """「同一楼栋已有类似反映」 with one line per ticket: #id, category, local time, state."""
    items = "\n".join(ctx.t("report_duplicate_line", id=t.id, category=category_name(ctx, t.category_id),
                            at=day_time(t.created_at, ctx.services.timezone), status=status_name(ctx, t.status))
                      for t in similar)
    return ctx.t("report_duplicates", items=items)


def options(ctx: Context, similar: list[Ticket]) -> list[tuple[str, Button]]:
    return [(ctx.t("me_too", id=t.id), MeTooButton(t.id)) for t in similar]


def claims(ctx: Context) -> bool:
    """A 我也遇到 press, well-formed or not (a malformed one is refused as not offered)."""
    return claimed_kind(ctx.incoming.button) is MeTooButton


async def follow_offered(ctx: Context, state: ReportState) -> bool:
    """Follow the pressed ticket if it was offered in this dialog; otherwise nothing changes,
    the presser is told so and False is returned (the caller shows the summary again)."""
    button = ctx.pressed
    if isinstance(button, MeTooButton) and button.ticket_id in state.offered:
        await me_too(ctx, button.ticket_id)
        return True
    log.warning("refused 我也遇到 %r by %s:%s: not offered in this dialog", ctx.incoming.button[:32],
                ctx.incoming.channel, ctx.incoming.user_id)
    ctx.say(ctx.t("me_too_not_offered"))
    return False


async def me_too(ctx: Context, ticket_id: int) -> None:
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    await end_dialog(ctx)
    if ticket is None or not ticket.is_open:
        ctx.say(ctx.t("ticket_missing", id=ticket_id))
        return
    if ticket.resident_id == ctx.account.resident_id or not await tickets.add_follower(
        ctx.conn, ticket_id, ctx.account.resident_id, ctx.now
    ):
        ctx.say(ctx.t("me_too_already", id=ticket_id))
        return
    await tickets.add_event(ctx.conn, ticket_id, ctx.now, "resident", str(ctx.account.resident_id),
                            EventAction.FOLLOWER_ADDED)
    count = len(await tickets.followers_of(ctx.conn, ticket_id)) + 1
    routing = await route(ctx.conn, ctx.services.config, ticket)
    await notify_staff(ctx, routing, ctx.t("card_me_too", id=ticket_id, count=count), ticket_id)
    ctx.say(ctx.t("me_too_done", id=ticket_id))
