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

from handlers import ticket_actions
from handlers.context import Context
from handlers.dialog_state import end_dialog, load
from handlers.flow_states import ReassignState, ResolveState
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
_SEPARATOR = re.compile(r"(?:\s|[，,：:])+")
_LOOSE = re.compile(r"(受理|办结|转派)(\s|[#＃0-9０-９]|$)")
STAFF_SIDE_FLOWS = (ticket_actions.RESOLVE_FLOW, ticket_actions.REASSIGN_FLOW)


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
    ticket = await ticket_actions.authorized_ticket(ctx, command.ticket_id)
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
        await ticket_actions.start_reassign(ctx, ticket)  # asks for the grid, then the reason
        return
    if not ticket_actions.may_reassign(ctx, ticket):
        return
    grid_text, reason = (_SEPARATOR.split(rest, maxsplit=1) + [""])[:2]
    grid_id = ticket_actions.pick_grid(ctx, ticket, unicodedata.normalize("NFKC", grid_text),
                                       unknown_key="cmd_grid_unknown")
    if grid_id is None:
        return
    if not reason.strip() or not _names_grid_exactly(ctx, grid_text):
        # The reason is still needed, or the grid was only guessed from a loose name: the
        # reason prompt names the grid, so the leader confirms it before the ticket moves.
        await ticket_actions.ask_reassign_reason(ctx, ticket, grid_id)
        return
    await ticket_actions.reassign(ctx, ticket, grid_id, reason)
    await _close_side_flow_of(ctx, ticket.id)


def _names_grid_exactly(ctx: Context, text: str) -> bool:
    wanted = unicodedata.normalize("NFKC", text).strip()
    return any(wanted.upper() == g.id.upper() or wanted == g.name for g in ctx.services.config.grids)


async def _close_side_flow_of(ctx: Context, ticket_id: int) -> None:
    """An open 办结 / 转派 dialog for the same ticket is done once the command did the job."""
    dialog = await load(ctx)
    if dialog is not None and isinstance(dialog.state, (ResolveState, ReassignState)) and dialog.state.ticket == ticket_id:
        await end_dialog(ctx)
