"""Big, clear options (适老化): a list longer than nine options is shown a page at a time.

One helper for every list that can grow (categories, communities, compounds, buildings, public
places, typed-address guesses): a page holds at most `PAGE_SIZE` options, then 「更多」 and
「上一页」. Those two work as buttons, as typed words (on every channel, Telegram included) and
as numbers where the channel numbers options. A page button carries only a page number; one
outside the list (forged, or stale after the config changed) changes nothing and is answered
politely, and the list is shown again at the page the person was on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handlers.button_codec import Button
from handlers.buttons import ListKind, ListPage, PageButton, claimed_kind
from handlers.context import Context
from handlers.dialog_state import OpenDialog, load, save
from handlers.flow_states import Flow, ListState

PAGE_SIZE = 9
MORE_WORDS = frozenset({"更多", "下一页", "more", "next"})
PREVIOUS_WORDS = frozenset({"上一页", "前一页", "previous", "prev"})

Item = tuple[str, Button]


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def page_options(ctx: Context, items: Sequence[Item], page: int, size: int = PAGE_SIZE,
                 button: Callable[[int], Button] = PageButton) -> list[Item]:
    """The options of one page (clamped into the list), then 「更多」 and 「上一页」 as they apply;
    `button` makes a page's button (a list outside a dialog names itself in it)."""
    page = min(max(page, 0), page_count(len(items), size) - 1)
    shown = list(items[page * size:(page + 1) * size])
    if (page + 1) * size < len(items):
        shown.append((ctx.t("page_more"), button(page + 1)))
    if page > 0:
        shown.append((ctx.t("page_previous"), button(page - 1)))
    return shown


def page_note(ctx: Context, page: int, total: int, size: int = PAGE_SIZE) -> str:
    """「（第 2/5 页）」 on its own line for a list of several pages, else nothing."""
    pages = page_count(total, size)
    return f"\n{ctx.t('page_of', page=min(max(page, 0), pages - 1) + 1, pages=pages)}" if pages > 1 else ""


async def list_page_options(ctx: Context, kind: ListKind, items: Sequence[Item], page: int) -> list[Item]:
    """A page of a list shown outside a dialog: its page buttons name the list, and the list is
    remembered (a dialog that only remembers, like the offer) so 更多 / 上一页 typed next turn it.
    An open flow is never replaced: there typed words are the flow's, and its buttons still work."""
    current = await load(ctx)
    if current is None or current.flow in (Flow.OFFER, Flow.LIST):
        await save(ctx, OpenDialog(Flow.LIST, "page", ListState(kind.value, page)))
    return page_options(ctx, items, page, button=lambda p: ListPage(kind, p))


def shown_page(ctx: Context, page: int, total: int, size: int = PAGE_SIZE) -> int:
    """The page to show of a list outside a dialog, from its page button: one that does not exist
    (forged, or the list shrank meanwhile) is refused politely and the nearest page shown."""
    pages = page_count(total, size)
    if not 0 <= page < pages:
        ctx.say(ctx.t("page_missing"))
    return min(max(page, 0), pages - 1)


@dataclass(frozen=True)
class PageTurn:
    """The page to show after a 「更多」/「上一页」; `refused` when the page asked for does not exist."""

    page: int
    refused: bool = False


def page_turn(ctx: Context, page: int, total: int, size: int = PAGE_SIZE) -> PageTurn | None:
    """How this input moves through a list shown at `page`; None when it is not a page move."""
    button = ctx.pressed
    words = ctx.incoming.text.strip().lower()
    if isinstance(button, PageButton):
        target = button.page
    elif claimed_kind(ctx.incoming.button) is PageButton:
        target = -1  # data that says it is a page but is not one of ours
    elif not ctx.incoming.button and words in MORE_WORDS:
        target = page + 1
    elif not ctx.incoming.button and words in PREVIOUS_WORDS:
        target = page - 1
    else:
        return None
    if 0 <= target < page_count(total, size):
        return PageTurn(target)
    return PageTurn(min(max(page, 0), page_count(total, size) - 1), refused=True)


def refuse_page(ctx: Context, turn: PageTurn) -> None:
    if turn.refused:
        ctx.say(ctx.t("page_missing"))


def typed_option(text: str, items: Sequence[Item]) -> Button | None:
    """An option's label typed in full is that option, as a number is where the channel numbers
    options: people type what they read (also on Telegram, whose buttons are not numbered)."""
    wanted = text.strip()
    return next((button for label, button in items if wanted and label == wanted), None) if wanted else None
