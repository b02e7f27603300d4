"""The parts the router's tables are made of: what a route matches, and how its handler is called."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.button_codec import Button
from handlers.context import Context
from handlers.dialog_state import OpenDialog
from handlers.flow_states import Flow


@dataclass(frozen=True)
class Turn:
    """One Incoming as the router sees it: the dialog it arrived in, and its button decoded."""

    dialog: OpenDialog | None
    flow: Flow | None  # the dialog's flow if it takes typed input (the 「offer」 takes none)
    button: Button | None  # None: no button, or data that does not decode
    claimed: type[Button] | None  # the kind the data claims, decoded or not


Handler = Callable[[Context, Turn], Awaitable[bool | None]]  # False: not mine, try the next route


@dataclass(frozen=True)
class Slash:
    """A slash command: one of these, or any when none are named."""

    names: frozenset[str] = frozenset()

    def __call__(self, ctx: Context, turn: Turn) -> bool:
        return bool(ctx.incoming.command) and (not self.names or ctx.incoming.command in self.names)


TRAILING = " \t!！。.~～?？,，、…"


def typed_words(text: str) -> str:
    """A typed message as word tables read it: 「你好！」 and 「Hello」 are 你好 and hello."""
    return text.strip().rstrip(TRAILING).lower()


@dataclass(frozen=True)
class Typed:
    """The whole typed message (stripped): one of these words, or text matching the pattern."""

    words: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None
    outside_flow: bool = False  # inside a flow, the words are the flow's input

    def __call__(self, ctx: Context, turn: Turn) -> bool:
        text = ctx.incoming.text.strip()
        if self.outside_flow and turn.flow is not None:
            return False
        return typed_words(text) in self.words or bool(self.pattern and self.pattern.fullmatch(text))


@dataclass(frozen=True)
class Claims:
    """Button data of these kinds, whether it decodes (the handler then gets None) or not."""

    kinds: tuple[type[Button], ...]

    def __call__(self, ctx: Context, turn: Turn) -> bool:
        return turn.claimed in self.kinds


@dataclass(frozen=True)
class Is:
    """This very button."""

    button: Button

    def __call__(self, ctx: Context, turn: Turn) -> bool:
        return turn.button == self.button


def command(*names: str) -> Slash:
    return Slash(frozenset(names))


def claims(*kinds: type[Button]) -> Claims:
    return Claims(kinds)


def any_button(ctx: Context, turn: Turn) -> bool:
    return bool(ctx.incoming.button)


def any_text(ctx: Context, turn: Turn) -> bool:
    return bool(ctx.incoming.text.strip())


def in_flow(ctx: Context, turn: Turn) -> bool:
    return turn.flow is not None


def media(ctx: Context, turn: Turn) -> bool:
    """A photo, a voice message (without a transcript) or a location (with or without a caption)."""
    incoming = ctx.incoming
    return not incoming.button and bool(incoming.photos or incoming.voices or incoming.location is not None)


def membership(ctx: Context, turn: Turn) -> bool:
    """The bot was added to or removed from a chat (Telegram's my_chat_member)."""
    return ctx.incoming.membership is not None


def unsupported_content(ctx: Context, turn: Turn) -> bool:
    """Content the bot cannot use (a sticker, a voice message, a dice)."""
    return bool(ctx.incoming.unsupported)


def anything(ctx: Context, turn: Turn) -> bool:
    return True


@dataclass(frozen=True)
class Route:
    name: str
    matches: Callable[[Context, Turn], bool]
    run: Handler


def plain(action: Callable[[Context], Awaitable[object]]) -> Handler:
    """A handler that needs only the context (and always answers)."""
    async def run(ctx: Context, turn: Turn) -> None:
        await action(ctx)
    return run


def pressed(action: Callable[[Context, Button | None], Awaitable[object]]) -> Handler:
    """A handler of one kind of button: it gets the decoded button, or None for forged data."""
    async def run(ctx: Context, turn: Turn) -> bool | None:
        return await action(ctx, turn.button)  # type: ignore[return-value]
    return run
