"""Typed staff commands: 受理 123 / 办结 123 说明 / 转派 123 G08 原因.

WeChat has no inline buttons, so staff act on a ticket by typing; the commands work on every
channel and run exactly the code the card's buttons run, with the same authorization checks.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from handlers import reassign, ticket_actions
from handlers.context import Context
from handlers.dialog_state import end_dialog, load
from handlers.flow_states import ReassignState, ResolveState
from handlers.ticket_moves import authorized_ticket
from storage.tickets import Ticket

log = logging.getLogger(__name__)


class Verb(StrEnum):
    ACK = "受理"
    RESOLVE = "办结"
    REASSIGN = "转派"


# The verb, an optional #, the ticket number; then (办结, 转派 only) a separator and the rest.
# Full-width digits, ＃ and the ideographic space are accepted (\s covers U+3000).
_PATTERN = re.compile(
    r"(?P<verb>受理|办结|转派)\s*[#＃]?\s*(?P<id>[0-9０-９]{1,9})(?:(?:\s|[，,：:])+(?P<rest>.*))?",
    re.DOTALL,
)
_LOOSE = re.compile(r"(受理|办结|转派)(\s|[#＃0-9０-９]|$)")
STAFF_SIDE_FLOWS = (ticket_actions.RESOLVE_FLOW, reassign.REASSIGN_FLOW)


@dataclass(frozen=True)
class TicketCommand:
    verb: Verb
    ticket_id: int
    rest: str = ""  # the note (办结) or "grid reason" (转派), as typed


def parse(text: str) -> TicketCommand | None:
    """The command in a message, or None unless the whole message has the strict form."""
    found = _PATTERN.fullmatch(text.strip())
    if found is None:
        return None
    verb, rest = Verb(found["verb"]), (found["rest"] or "").strip()
    if verb is Verb.ACK and rest:
        return None  # 受理 takes nothing after the number
    return TicketCommand(verb, int(unicodedata.normalize("NFKC", found["id"])), rest)


def looks_like_command(text: str) -> bool:
    """A message starting like a command (「受理」「办结 12号楼…」) but maybe malformed."""
    return _LOOSE.match(text.strip()) is not None


async def try_handle(ctx: Context, flow: str | None) -> bool:
    """True when the text was a ticket command, or a staff near miss, and has been answered.

    `flow` is the dialog in progress, if any. Only bound staff run commands, so a resident
    whose description happens to start with 「受理」 is never taken for one; a resident who
    types a command outside any dialog is told it is for staff.
    """
    text = ctx.incoming.text
    if ctx.incoming.button or not text.strip():
        return False
    command = parse(text)
    if ctx.person is None:
        if command is None or flow is not None:
            return False
        # Someone who is not staff tried to act on a ticket: refused and logged (no message text).
        log.info("refused ticket command %s on ticket %s by %s:%s: not staff", command.verb.name,
                    command.ticket_id, ctx.incoming.channel, ctx.incoming.user_id)
        ctx.say(ctx.t("cmd_staff_only"))
        return True
    if command is not None:
        await run(ctx, command)
        return True
    if looks_like_command(text) and (flow is None or flow in STAFF_SIDE_FLOWS):
        ctx.say(ctx.t("cmd_usage"))
        return True
    return False


async def run(ctx: Context, command: TicketCommand) -> None:
    """Do what the typed command says, if the sender may act on the ticket."""
    ticket = await authorized_ticket(ctx, command.ticket_id)
    if ticket is None:
        return
    if command.verb is Verb.ACK:
        await ticket_actions.acknowledge(ctx, ticket)
    elif command.verb is Verb.RESOLVE:
        await _resolve(ctx, ticket, command.rest)
    else:
        await _reassign(ctx, ticket, command.rest)


async def _resolve(ctx: Context, ticket: Ticket, note: str) -> None:
    if not note and not ctx.incoming.photos:
        await ticket_actions.start_resolve(ctx, ticket)  # asks for the note or a photo
        return
    if await ticket_actions.resolve(ctx, ticket, note, ctx.incoming.photos):
        await _close_side_flow_of(ctx, ticket.id)


async def _reassign(ctx: Context, ticket: Ticket, rest: str) -> None:
    if not rest:
        await reassign.start_reassign(ctx, ticket)  # offers the grid list, then asks the reason
        return
    if not reassign.may_reassign(ctx, ticket):
        return
    # 「转派 1 G2 楼栋不归我们管」 moves at once; a name that fits several grids, or a loose one,
    # asks which (the reason kept); a grid without a reason asks the reason.
    await reassign.choose(ctx, ticket, rest, typed_command=True)


async def _close_side_flow_of(ctx: Context, ticket_id: int) -> None:
    """An open 办结 / 转派 dialog for the same ticket is done once the command did the job."""
    dialog = await load(ctx)
    if dialog is not None and isinstance(dialog.state, (ResolveState, ReassignState)) and dialog.state.ticket == ticket_id:
        await end_dialog(ctx)
