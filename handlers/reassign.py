"""转派 (reassign): which grid, why, and the move.

The grid is picked from a list (the other grids of the ticket's community first, then the other
communities' in config order, a page at a time through handlers/paging.py: at most 9 grids, then
更多 / 上一页 / 取消), or
typed: an id as people write it (G1, g01, Ｇ０１ for G01), a name or part of one. A name that
fits several grids asks which; a reason typed in the same message (「G02 楼栋不归我们管」) is kept
and the ticket moves as soon as the grid is certain. A grid only guessed from a loose name is
offered as the one option to confirm, so a typo never moves a ticket.

Grid buttons carry the ticket and the grid, and are acted on only inside that ticket's 转派
dialog, after the same server-side checks as typed input: the grid must exist and not be the
ticket's own, and the presser must still be allowed to act on the ticket.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace

from handlers.button_codec import Button
from handlers.buttons import CANCEL, PageButton, ReassignGrid, claimed_kind
from handlers.cards import grid_name, notify_resident, send_card, status_name
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog, load, save
from handlers.domain import tickets as moves
from handlers.domain.grid_names import list_order, matching_grids, split_grid_and_reason
from handlers.domain.tickets import fresh_deadlines
from handlers.flow_states import Flow, ReassignState
from handlers.paging import page_count, page_turn, refuse_page
from handlers.paging import page_options as paged
from handlers.rendering import resident_text
from handlers.routing import route
from handlers.ticket_moves import authorized_ticket, carry_out, staff_actor
from storage import tickets
from storage.tickets import Ticket

log = logging.getLogger(__name__)

REASSIGN_FLOW = Flow.REASSIGN


# -- the list ----------------------------------------------------------------------------------


def _label(ctx: Context, ticket: Ticket, grid_id: str) -> str:
    config = ctx.services.config
    grid = config.grid(grid_id)
    if grid is None:  # a list kept in a dialog across a config change: pressing it is refused
        return grid_id
    if grid.community == ticket.community_id:
        return ctx.t("reassign_option", id=grid.id, name=grid.name)
    community = config.community(grid.community)
    return ctx.t("reassign_option_other", id=grid.id, name=grid.name,
                 community=community.name if community else grid.community)


def _grids(ctx: Context, ticket: Ticket, state: ReassignState) -> list[str]:
    """The grids the state lists: the matches of a typed name, or every other grid."""
    return list(state.choices) or list_order(ctx.services.config, ticket.grid_id, ticket.community_id)


def page_options(ctx: Context, ticket: Ticket, state: ReassignState) -> tuple[tuple[str, Button], ...]:
    """The grids of the state's page (of its choices, or of the whole list), 更多, 上一页, 取消."""
    items = [(_label(ctx, ticket, g), ReassignGrid(ticket.id, g)) for g in _grids(ctx, ticket, state)]
    return (*paged(ctx, items, state.page), (ctx.t("cancel"), CANCEL))


def _say_with_page(ctx: Context, ticket: Ticket, state: ReassignState, text: str, *, prompt: bool = True) -> None:
    """`text` with the page's options; a prompt also says which page of how many this is."""
    pages = page_count(len(_grids(ctx, ticket, state)))
    if prompt and pages > 1:
        text = f"{text}\n{ctx.t('page_of', page=min(state.page, pages - 1) + 1, pages=pages)}"
    ctx.say(text, *page_options(ctx, ticket, state))


def _prompt(ctx: Context, state: ReassignState) -> str:
    if not state.choices:
        return ctx.t("reassign_prompt")
    names = [grid_name(ctx, g) for g in state.choices]
    text = ctx.t("reassign_which", count=len(names)) if len(names) > 1 else ctx.t("reassign_confirm", grid=names[0])
    return f"{text}\n{ctx.t('reassign_reason_kept', reason=resident_text(state.reason, 60))}" if state.reason else text


# -- the flow ----------------------------------------------------------------------------------


def may_reassign(ctx: Context, ticket: Ticket) -> bool:
    """Only an open ticket can move; otherwise the sender is told why."""
    if not ticket.is_open:
        ctx.say(ctx.t("ticket_closed_already", id=ticket.id, status=status_name(ctx, ticket.status)))
    return ticket.is_open


async def start_reassign(ctx: Context, ticket: Ticket) -> None:
    if not may_reassign(ctx, ticket):
        return
    state = ReassignState(ticket.id)
    await begin_side_flow(ctx, REASSIGN_FLOW, "grid", state)
    _say_with_page(ctx, ticket, state, ctx.t("reassign_prompt"))


async def ask_reassign_reason(ctx: Context, ticket: Ticket, grid_id: str) -> None:
    await begin_side_flow(ctx, REASSIGN_FLOW, "reason", ReassignState(ticket.id, grid_id))
    ctx.say(ctx.t("reassign_reason", grid=grid_name(ctx, grid_id)), (ctx.t("cancel"), CANCEL))


async def choose(ctx: Context, ticket: Ticket, text: str, *, typed_command: bool = False) -> None:
    """Act on typed 「grid [reason]」: move the ticket, ask the reason, or ask which grid; when
    no grid but the ticket's own fits, say so (a typed command with its own usage line)."""
    config = ctx.services.config
    grid_text, reason = split_grid_and_reason(config, text)
    found, certain = matching_grids(config, grid_text)
    others = [g.id for g in found if g.id != ticket.grid_id]
    if not others:
        shown = unicodedata.normalize("NFKC", grid_text).strip()[:20]
        key = "reassign_same_grid" if found else ("cmd_grid_unknown" if typed_command else "reassign_grid_unknown")
        if typed_command:
            ctx.say(ctx.t(key, text=shown, id=ticket.id))
        else:
            _say_with_page(ctx, ticket, await _state(ctx, ticket), ctx.t(key, text=shown, id=ticket.id), prompt=False)
        return
    if certain and len(others) == 1:
        if reason:
            await end_dialog_of(ctx, ticket.id)
            await reassign(ctx, ticket, others[0], reason)
        else:
            await ask_reassign_reason(ctx, ticket, others[0])
        return
    # Several grids, or one only guessed: the leader picks (or confirms) it; the reason is kept.
    order = list_order(config, ticket.grid_id, ticket.community_id)
    state = ReassignState(ticket.id, choices=tuple(sorted(others, key=order.index)), reason=reason)
    await begin_side_flow(ctx, REASSIGN_FLOW, "which", state)
    _say_with_page(ctx, ticket, state, _prompt(ctx, state))


async def _state(ctx: Context, ticket: Ticket) -> ReassignState:
    """The open 转派 dialog's state for this ticket (its page), or a fresh one."""
    dialog = await load(ctx)
    if dialog is not None and isinstance(dialog.state, ReassignState) and dialog.state.ticket == ticket.id:
        return dialog.state
    return ReassignState(ticket.id)


async def handle_reassign(ctx: Context, dialog: OpenDialog) -> None:
    state = dialog.state
    assert isinstance(state, ReassignState)
    ticket = await authorized_ticket(ctx, state.ticket)
    if ticket is None or not may_reassign(ctx, ticket):
        await end_dialog(ctx)
        return
    pressed = ctx.pressed
    if isinstance(pressed, ReassignGrid):
        await _pressed_grid(ctx, ticket, state, pressed)
        return
    if await _turned_page(ctx, ticket, dialog):
        return
    text = ctx.incoming.text.strip()
    if dialog.step in ("grid", "which"):
        if ctx.incoming.button or not text:  # forged or foreign data: nothing moves
            _say_with_page(ctx, ticket, state, ctx.t("reassign_use_list"), prompt=False)
            return
        await choose(ctx, ticket, text)
        return
    if not text:
        ctx.say(ctx.t("reassign_reason", grid=grid_name(ctx, state.grid)))
        return
    await end_dialog(ctx)
    await reassign(ctx, ticket, state.grid, text)


async def _turned_page(ctx: Context, ticket: Ticket, dialog: OpenDialog) -> bool:
    """更多 / 上一页 (pressed, typed, or numbered on WeChat): show that page; a page that does not
    exist (forged or stale data) is refused and the page shown again. At the reason step typed
    words are the reason, but a page button of the list still brings the list back."""
    state = dialog.state
    assert isinstance(state, ReassignState)
    step = dialog.step
    if step == "reason":
        if claimed_kind(ctx.incoming.button) is not PageButton:
            return False
        state, step = ReassignState(ticket.id), "grid"
    turn = page_turn(ctx, state.page, len(_grids(ctx, ticket, state)))
    if turn is None:
        return False
    refuse_page(ctx, turn)
    state = replace(state, page=turn.page)
    await save(ctx, replace(dialog, step=step, state=state))
    _say_with_page(ctx, ticket, state, _prompt(ctx, state))
    return True


async def _pressed_grid(ctx: Context, ticket: Ticket, state: ReassignState, button: ReassignGrid) -> None:
    """A grid from the list: checked as if typed. A button from another ticket's list, a grid
    that is not configured, or the ticket's own grid changes nothing."""
    if button.ticket_id != ticket.id:
        log.warning("refused 转派 button for ticket %s in the dialog of ticket %s by %s:%s", button.ticket_id,
                    ticket.id, ctx.incoming.channel, ctx.incoming.user_id)
        _say_with_page(ctx, ticket, state, ctx.t("option_stale"), prompt=False)
        return
    grid = ctx.services.config.grid(button.grid_id)
    if grid is None or grid.id == ticket.grid_id:
        key = "reassign_same_grid" if grid is not None else "reassign_grid_unknown"
        log.warning("refused 转派 of ticket %s to grid %r by %s:%s", ticket.id, button.grid_id[:20],
                    ctx.incoming.channel, ctx.incoming.user_id)
        _say_with_page(ctx, ticket, state, ctx.t(key, text=button.grid_id[:20], id=ticket.id), prompt=False)
        return
    if state.reason:
        await end_dialog(ctx)
        await reassign(ctx, ticket, grid.id, state.reason)
    else:
        await ask_reassign_reason(ctx, ticket, grid.id)


async def end_dialog_of(ctx: Context, ticket_id: int) -> None:
    """The 转派 dialog of this ticket, if open, is done: the ticket is moving now."""
    dialog = await load(ctx)
    if dialog is not None and isinstance(dialog.state, ReassignState) and dialog.state.ticket == ticket_id:
        await end_dialog(ctx)


async def reassign(ctx: Context, ticket: Ticket, grid_id: str, reason: str) -> None:
    """转派 to a checked grid: fresh deadlines, the audit row, the new grid's card, the resident."""
    grid = ctx.services.config.grid(grid_id)
    assert grid is not None
    # The new grid gets the category's full time limits from now, not the old (maybe past) ones.
    done = moves.reassign(ticket, staff_actor(ctx), ctx.services.config, grid, reason,
                          fresh_deadlines(ctx.services.config, ticket, ctx.now))
    if await carry_out(ctx, ticket, done, "ticket_closed_already") is None:
        return
    reason = done.event.note
    moved = await tickets.get_ticket(ctx.conn, ticket.id)
    assert moved is not None
    routing = await route(ctx.conn, ctx.services.config, moved)
    await send_card(ctx, moved, routing, "card_reassigned", note=ctx.t("card_reassign_reason", reason=resident_text(reason)))
    await notify_resident(ctx, moved, ctx.t("notice_reassigned", id=ticket.id, grid=grid.name),
                          followers=ctx.t("follower_reassigned", id=ticket.id, grid=grid.name))
    ctx.say(ctx.t("reassign_done", id=ticket.id, grid=grid.name))

