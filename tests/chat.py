"""A fake channel for transcript tests: people type, press and read, as in a chat."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.app import App
from handlers.dispatcher import create_invite
from handlers.types import Channel, Incoming, Location, Reply, split_command
from storage import outbox, tickets
from storage.tickets import Ticket


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

    async def _do(self, incoming: Incoming) -> list[Reply]:
        self.sent += 1
        replies = await self.app.engine.handle_direct(incoming)
        self._last_batch = replies
        self.seen += replies
        return replies

    def _incoming(self, **fields: object) -> Incoming:
        return Incoming(channel=self.channel, chat_id=self.user_id, user_id=self.user_id,
                        display_name=self.user_id, **fields)  # type: ignore[arg-type]

    async def say(self, text: str, *, group: bool = False) -> list[Reply]:
        command, arg = split_command(text)
        chat = {"chat_id": "group-1", "is_group": True} if group else {}
        incoming = self._incoming(text=text, command=command, command_arg=arg)
        if chat:
            incoming = Incoming(**{**incoming.__dict__, **chat})
        return await self._do(incoming)

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
            incoming = Incoming(**{**incoming.__dict__, "chat_id": "group-1", "is_group": True})
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

    async def location(self, lat: float, lon: float) -> list[Reply]:
        return await self._do(self._incoming(location=Location(lat, lon)))

    @property
    def options(self) -> list[str]:
        for reply in reversed(self._last_batch):
            if reply.options:
                return [o.label for o in reply.options]
        return []

    async def inbox(self) -> list[Reply]:
        """Notifications the bot queued for this user (outbox rows), oldest first."""
        async with self.app.db.read() as conn:
            rows = await outbox.rows_for(conn, self.channel, self.user_id)
        return [Reply.from_payload(r.payload) for r in rows]


async def query(app: App, sql: str, *params: object) -> list[tuple]:
    """Rows of a read-only SQL query, as plain tuples."""
    async with app.db.read() as conn, conn.execute(sql, params) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def ticket_row(app: App, ticket_id: int) -> Ticket:
    async with app.db.read() as conn:
        found = await tickets.get_ticket(conn, ticket_id)
    assert found is not None, f"no ticket #{ticket_id}"
    return found


async def actions(app: App, ticket_id: int) -> list[str]:
    """The ticket_events actions of one ticket, oldest first."""
    return [row[0] for row in await query(
        app, "SELECT action FROM ticket_events WHERE ticket_id = ? ORDER BY id", ticket_id)]


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
    await user.press(address)
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
