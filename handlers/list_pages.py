"""更多 / 上一页 of the lists shown outside any dialog (近期活动, 我的工单, 公告列表): the button names
the list and the page; the list is read again as it is now and that page shown (a page that no
longer exists is refused politely by the list itself, handlers/paging.shown_page)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import activities, announce_admin, my_tickets
from handlers.button_codec import Button
from handlers.buttons import ListKind, ListPage
from handlers.context import Context
from handlers.flow_states import ListState
from handlers.paging import MORE_WORDS
from handlers.route_types import Turn, typed_words

SHOW: dict[ListKind, Callable[[Context, int], Awaitable[None]]] = {
    ListKind.ACTIVITIES: activities.show_open,
    ListKind.MY_TICKETS: my_tickets.show_my_tickets_page,
    ListKind.ANNOUNCEMENTS: announce_admin.show_list,
}


async def turn_page(ctx: Context, button: Button | None) -> bool:
    """A page of a list. Data that claims to be a list page but is not one of ours names no list:
    declined, so it is answered as any stale option is (「这个选项已经失效了」 and the menu)."""
    if not isinstance(button, ListPage):
        return False
    await SHOW[button.kind](ctx, button.page)
    return True


async def typed_turn(ctx: Context, turn: Turn) -> bool:
    """更多 / 上一页 typed after such a list (Telegram shows them as buttons, people type them
    anyway); declined when no list is remembered, so the words are answered as any other text."""
    remembered = turn.dialog.state if turn.dialog is not None else None
    if not isinstance(remembered, ListState) or remembered.kind not in set(ListKind):
        return False
    step = 1 if typed_words(ctx.incoming.text) in MORE_WORDS else -1
    await SHOW[ListKind(remembered.kind)](ctx, remembered.page + step)
    return True
