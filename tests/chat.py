"""A fake channel for transcript tests: people type, press and read, as in a chat.

Each message takes the production intake path: it is stored in the inbox, handled from there by
`Engine.handle_stored` (flood guard, one transaction with its outbox rows and its done-mark), and
what the person sees is read back from the outbox rows written for their chat. Assertions read
the database through storage's own read functions (`read`, and the helpers below), not SQL.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from bot.app import App
from handlers.dispatcher import create_invite
from handlers.types import Channel, Incoming, Location, Reply, split_command
from storage import accounts, inbox, outbox, reads, tickets
from storage.accounts import Account, Resident
from storage.clock import FakeClock
from storage.dialogs import Dialog, load_dialog
from storage.outbox import OutboxRow
from storage.tickets import Ticket, TicketEvent

T = TypeVar("T")
REPLY = "reply"  # the outbox kind of a reply to the sender; notifications to others have their own
_platform_ids = itertools.count(1)


@dataclass
class ChatUser:
    """One person in the fake channel, with the replies they have seen."""

    app: App
    user_id: str
    channel: Channel = Channel.CONSOLE
    seen: list[Reply] = field(default_factory=list)

    @property
    def last(self) -> Reply:
        assert self.seen, f"{self.user_id} has seen nothing"
        return self.seen[-1]

    @property
    def text(self) -> str:
        """Everything shown by the last action, joined."""
        return "\n".join(r.text for r in self._last_batch)

    _last_batch: list[Reply] = field(default_factory=list)
    sent: int = 0  # how many messages and taps this user has sent
    stored: list[int] = field(default_factory=list)  # the inbox ids of what they sent, oldest first

    async def _do(self, incoming: Incoming) -> list[Reply]:
        """Store the message as a channel's intake does, handle it from the inbox, and read the
        replies from the outbox rows it wrote for this chat."""
        self.sent += 1
        platform_id = f"transcript-{next(_platform_ids)}"
        async with self.app.db.transaction() as conn:
            before = await outbox.rows_for(conn, self.channel, incoming.chat_id)
            await inbox.store(conn, self.channel, platform_id, json.dumps(_payload(incoming), ensure_ascii=False),
                              self.app.clock.now())
            stored = await inbox.by_platform_id(conn, self.channel, platform_id)
        assert stored is not None
        self.stored.append(stored.id)
        await self.app.engine.handle_stored(incoming, stored.id)
        async with self.app.db.read() as conn:
            handled = await inbox.by_platform_id(conn, self.channel, platform_id)
            rows = await outbox.rows_for(conn, self.channel, incoming.chat_id, after=max((r.id for r in before), default=0))
        assert handled is not None and handled.status == "done", handled  # committed with its effects
        replies = [Reply.from_payload(row.payload) for row in rows if row.kind == REPLY]
        self._last_batch = replies
        self.seen += replies
        return replies

    def _incoming(self, **fields: object) -> Incoming:
        return Incoming(channel=self.channel, chat_id=self.user_id, user_id=self.user_id,
                        display_name=self.user_id, **fields)  # type: ignore[arg-type]

    async def say(self, text: str, *, group: bool = False) -> list[Reply]:
        if group:
            return await self.say_in_group(text)
        command, arg = split_command(text)
        return await self._do(self._incoming(text=text, command=command, command_arg=arg))

    async def say_in_group(self, text: str, chat_id: str = "group-1", title: str = "") -> list[Reply]:
        """Say it in a group chat this user is in; the answers are posted to the group."""
        command, arg = split_command(text)
        incoming = self._incoming(text=text, command=command, command_arg=arg)
        return await self._do(replace(incoming, chat_id=chat_id, is_group=True, chat_title=title))

    async def press(self, label: str) -> list[Reply]:
        """Press the newest option whose label contains `label`."""
        for reply in reversed(self.seen):
            for option in reply.options:
                if label in option.label:
                    return await self._do(self._incoming(button=option.data))
        raise AssertionError(f"no option {label!r}; last options: {self.options}")

    async def press_data(self, data: str, *, group: bool = False) -> list[Reply]:
        incoming = self._incoming(button=data)
        if group:
            incoming = replace(incoming, chat_id="group-1", is_group=True)
        return await self._do(incoming)

    async def press_notice(self, label: str) -> list[Reply]:
        """Press the newest option whose label contains `label` in a queued notification."""
        for reply in reversed(await self.inbox()):
            for option in reply.options:
                if label in option.label:
                    return await self._do(self._incoming(button=option.data))
        raise AssertionError(f"no option {label!r} in {self.user_id}'s notifications")

    async def photo(self, ref: str, caption: str = "") -> list[Reply]:
        return await self._do(self._incoming(photos=(ref,), text=caption))

    async def voice(self, ref: str) -> list[Reply]:
        """A voice message without a transcript (Telegram voice, WeChat with no Recognition)."""
        return await self._do(self._incoming(voices=(ref,)))

    async def location(self, lat: float, lon: float) -> list[Reply]:
        return await self._do(self._incoming(location=Location(lat, lon)))

    @property
    def options(self) -> list[str]:
        for reply in reversed(self._last_batch):
            if reply.options:
                return [o.label for o in reply.options]
        return []

    async def inbox(self) -> list[Reply]:
        """Notifications the bot queued for this user (outbox rows other than replies), oldest first."""
        async with self.app.db.read() as conn:
            rows = await outbox.rows_for(conn, self.channel, self.user_id)
        return [Reply.from_payload(r.payload) for r in rows if r.kind != REPLY]

    async def dialog(self) -> Dialog | None:
        """The flow this user is in the middle of, if any."""
        return await read(self.app, load_dialog, self.channel, self.user_id)

    async def account(self) -> Account:
        found = await read(self.app, accounts.get_account, self.channel, self.user_id)
        assert found is not None, f"{self.user_id} has no account"
        return found

    async def resident(self) -> Resident:
        """The resident record behind this chat account."""
        return await read(self.app, accounts.get_resident, (await self.account()).resident_id)


def _payload(incoming: Incoming) -> dict[str, Any]:
    """What the transcript channel keeps in the inbox: the message as the person sent it."""
    fields = {key: value for key, value in incoming.__dict__.items() if value not in ("", (), None, False)}
    if incoming.location is not None:
        fields["location"] = incoming.location.__dict__
    return fields


async def read(app: App, reader: Callable[..., Awaitable[T]], *args: Any) -> T:
    """One storage read function's answer: `await read(app, tickets.get_ticket, 1)`."""
    async with app.db.read() as conn:
        return await reader(conn, *args)


async def query(app: App, sql: str, *params: object) -> list[tuple]:
    """Rows of a read-only SQL query, as plain tuples: for end-to-end checks of raw columns that
    no storage read function returns (a transcript asserts through `read` and the helpers)."""
    async with app.db.read() as conn, conn.execute(sql, params) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def ticket_row(app: App, ticket_id: int) -> Ticket:
    found = await read(app, tickets.get_ticket, ticket_id)
    assert found is not None, f"no ticket #{ticket_id}"
    return found


async def actions(app: App, ticket_id: int) -> list[str]:
    """The ticket_events actions of one ticket, oldest first."""
    return [event.action for event in await read(app, tickets.events_of, ticket_id)]


async def audit(app: App, action: str | None = None) -> list[TicketEvent]:
    """Every ticket's audit rows (of one action), oldest first."""
    return await read(app, reads.events, action)


async def all_tickets(app: App) -> list[Ticket]:
    return await read(app, reads.all_tickets)


async def dialogs(app: App) -> list[reads.OpenDialog]:
    """Every conversation in the middle of a flow, of anyone."""
    return await read(app, reads.dialogs)


async def steps(app: App) -> list[tuple[str, str]]:
    """(flow, step) of every open dialog, of anyone."""
    return [(open_.dialog.flow, open_.dialog.step) for open_ in await dialogs(app)]


async def notifications(app: App) -> list[OutboxRow]:
    """Every message queued for someone other than the sender it answered (cards, notices,
    announcements, digests): the outbox without the replies."""
    return [row for row in await read(app, reads.outbox_rows) if row.kind != REPLY]


async def account(app: App, channel: str, external_id: str) -> Account | None:
    return await read(app, accounts.get_account, channel, external_id)


def pause(app: App, minutes: float = 1) -> None:
    """A person takes time between one report and the next. Messages go through the flood guard
    (20 a minute per sender) as on every channel, and the test clock moves only when told, so a
    transcript that has one person send more than that lets a minute pass, as a person would."""
    clock = app.clock
    assert isinstance(clock, FakeClock), "transcripts run on the fake clock"
    clock.advance(minutes=minutes)


async def file_report(
    user: ChatUser,
    *,
    category: str = "水电维修",
    description: str = "3栋楼道灯坏了，晚上很黑",
    address: str = "龙池花园3栋",
    phone: str = "",
) -> int:
    """A complete report with a typed address; the new ticket's id."""
    await user.say("/report")
    await user.press(category)
    await user.say(description)
    if "登记的地址" in user.text:
        await user.press("换一个地址")
    await user.say(address)
    if "哪一个" in user.text:  # an address typed exactly is taken without this question
        await user.press(address)
    if "跳过" in user.options:  # the optional unit/room question (an address of a building only)
        await user.press("跳过")
    if phone:
        await user.say(phone)
    else:
        await user.press("不留电话")
    await user.press("提交")
    found = re.search(r"工单号 #(\d+)", user.text)
    assert found, user.text
    return int(found.group(1))


async def bind(app: App, user: ChatUser, person_id: str) -> None:
    async with app.db.transaction() as conn:
        code = await create_invite(conn, person_id, app.clock.now())
    await user.say(f"/bind {code}")
    assert "绑定成功" in user.text, user.text

