"""The console channel: every flow in a terminal, options numbered, stdin may be piped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.scheduler import Scheduler
from bot.sender import Delivery, DeliveryStatus, OutboxSender
from handlers.formatting import parse_id
from handlers.types import Channel, Incoming, Location, Option, Reply, split_command
from storage import accounts, inbox
from storage.clock import stamp

log = logging.getLogger(__name__)

HELP = (
    "控制台模式：输入文字即发送消息；输入数字或选项的文字选择选项；\n"
    "/photo 名称 发送照片，/voice 名称 发送语音，/location 纬度 经度 发送位置，/as 身份 切换身份\n"
    "（resident:姓名、leader:G01、guide:G01、admin 或人员编号），/quit 退出。"
)
# What an operator needs to know about this session's files (operator-facing, like HELP).
SESSION_NOTE = (
    "数据库 {database}（控制台专用，与正式数据库分开）。\n"
    "在这里绑定工作人员账号：fengshan-bot invite --console --grid G01，再在此发送 /bind 邀请码。"
)
LOG_NOTE = "日志写入 {log_file}（不在对话中显示）。"


class ConsoleView:
    """What the terminal shows, and the options each console identity can pick by number."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.options: dict[str, tuple[Option, ...]] = {}

    def show(self, user_id: str, reply: Reply, header: str = "") -> None:
        lines = [header] if header else []
        if reply.photo:
            lines.append(f"[照片 {reply.photo}] {reply.text}")
        elif reply.voice:
            lines.append(f"[语音 {reply.voice}] {reply.text}")
        else:
            lines.append(reply.text)
        lines += [f"  {n}. {option.label}" for n, option in enumerate(reply.options, 1)]
        if reply.link:
            lines.append(f"  🔗 {reply.link_label or '链接'}：{reply.link}")
        if reply.options:
            self.options[user_id] = reply.options
        self.write("\n".join(lines))


class ConsoleTransport:
    """Delivers outbox rows addressed to console identities by printing them.

    Rows are held until the line's sending is done, then shown as a terminal reads best: the
    typing identity's own replies first, plainly, then what others were sent, each with a header
    (the sender delivers staff cards first and chats side by side)."""

    channel = Channel.CONSOLE.value

    def __init__(self, view: ConsoleView, names: dict[str, str]) -> None:
        self.view = view
        self.names = names
        self._held: list[tuple[str, Reply, str]] = []  # (chat id, reply, kind), in delivery order

    def is_group(self, chat_id: str) -> bool:
        return False  # console identities are people

    def slot(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """No wait before the call: this channel's limits (if any) are kept inside deliver."""
        return contextlib.nullcontext()

    async def deliver(self, chat_id: str, reply: Reply, *, kind: str = "reply",
                      ticket_id: int | None = None) -> Delivery:
        self._held.append((chat_id, reply, kind))
        return Delivery(DeliveryStatus.SENT, message_id="console")

    def show_held(self, typing: str) -> None:
        """Print what was delivered: `typing`'s replies plainly, then everything else with a header."""
        held, self._held = self._held, []
        own = [(chat, reply) for chat, reply, kind in held if chat == typing and kind == "reply"]
        for chat, reply in own:
            self.view.show(chat, reply)
        for chat, reply, kind in held:
            if not (chat == typing and kind == "reply"):
                name = self.names.get(chat, chat)
                self.view.show(chat, reply, header=f"📨 发给 {name}（{chat}）：")


def resolve_identity(app: App, spec: str) -> str | None:
    """The console user id for `resident:<name>`, `leader:G07`, `guide:G07`, `admin` or a person id."""
    config = app.config
    kind, _, value = spec.partition(":")
    if kind == "resident" and value.strip():
        return f"resident:{value.strip()}"
    if kind in ("leader", "guide", "worker"):
        grid = config.grid(value.strip().upper())
        if grid is None:
            return None
        people = {"leader": grid.leaders, "guide": [grid.guide], "worker": grid.workers}[kind]
        return people[0].id if people else None
    if kind == "admin":
        return config.admins[0].id
    known = {p.id for p, _, _, _ in config.all_people()}
    return spec if spec in known else None


async def bind_console_staff(app: App) -> dict[str, str]:
    """Every staff member gets a console identity named by their person id; returns id → name."""
    names: dict[str, str] = {}
    now = app.clock.now()
    async with app.db.transaction() as conn:
        for person, _, _, _ in app.config.all_people():
            await accounts.bind_account(conn, Channel.CONSOLE, person.id, person.id, person.name, now)
            names[person.id] = person.name
    return names


def parse_line(user_id: str, line: str, options: tuple[Option, ...]) -> Incoming:
    base = {"channel": Channel.CONSOLE, "chat_id": user_id, "user_id": user_id, "display_name": user_id}
    text = line.strip()
    if (number := parse_id(text, max_digits=3)) is not None and 1 <= number <= len(options):
        return Incoming(**base, button=options[number - 1].data)
    # An option's label typed in full is that option, as on WeChat: people type what they read.
    if (chosen := next((o for o in options if o.label == text), None)) is not None:
        return Incoming(**base, button=chosen.data)
    command, arg = split_command(text)
    if command == "photo":
        return Incoming(**base, photos=(arg or "photo",))
    if command == "voice":  # a voice message without a transcript (适老化)
        return Incoming(**base, voices=(arg or "voice",))
    if command == "location":
        parts = arg.split()
        try:
            return Incoming(**base, location=Location(float(parts[0]), float(parts[1])))
        except (IndexError, ValueError):
            return Incoming(**base, text=text)
    if command:
        return Incoming(**base, command=command, command_arg=arg)
    return Incoming(**base, text=text)


class ConsoleChannel:
    """Each typed line takes the path every channel's message takes: stored in the inbox,
    handled by the engine (flood guard included), its replies queued in the outbox and printed
    by the console's sender. The parts are built by bot/bootstrap.py."""

    def __init__(self, app: App, identity: str, view: ConsoleView, transport: ConsoleTransport,
                 sender: OutboxSender, scheduler: Scheduler, log_file: Path | None = None) -> None:
        self.app = app
        self.user_id = identity
        self.log_file = log_file
        self.view = view
        self.transport = transport
        self.sender = sender
        # No clock ticks in a terminal session: what is due runs after each line typed.
        self.scheduler = scheduler
        self._session = ""
        self._lines = 0
        # Shown at start after the session notes: the workplace's sign-in link (bot/runtime.py).
        self.notes: list[str] = []

    async def start(self) -> None:
        self.transport.names.update(await bind_console_staff(self.app))
        names = self.transport.names
        self._session = stamp(self.app.clock.now())  # line ids stay unique across sessions
        await self.sender.recover()
        # As `run` does: the config's standing announcements exist here too (公告列表 lists them).
        await self.scheduler.sync_config()
        self.view.write(HELP)
        self.view.write(SESSION_NOTE.format(database=self.app.db.path))
        if self.log_file is not None:
            self.view.write(LOG_NOTE.format(log_file=self.log_file))
        for note in self.notes:
            self.view.write(note)
        self.view.write(f"当前身份：{names.get(self.user_id, self.user_id)}（{self.user_id}）")

    async def handle_line(self, line: str) -> bool:
        """Handle one typed line; False when the user asked to quit."""
        text = line.strip()
        if not text:
            return True
        if text in ("/quit", "/exit"):
            return False
        if text.startswith("/as "):
            who = resolve_identity(self.app, text.removeprefix("/as ").strip())
            if who is None:
                self.view.write("没有这个身份。示例：/as leader:G01、/as resident:张三、/as admin")
            else:
                self.user_id = who
                self.view.write(f"当前身份：{who}")
            return True
        incoming = parse_line(self.user_id, text, self.view.options.get(self.user_id, ()))
        item_id = await self._store(text)
        try:
            await self.app.engine.handle_stored(incoming, item_id)
        except Exception as exc:
            # The console's error boundary: the transaction rolled back; a line is typed once,
            # so it is parked at once and the apology goes through the outbox like any reply.
            log.exception("console input from %s failed", self.user_id)
            await self.app.engine.park(item_id, f"handle: {type(exc).__name__}"[:300],
                                       apologise_to=(Channel.CONSOLE.value, self.user_id), sender=self.user_id)
        await self.scheduler.run_due()
        await self.sender.drain_once()
        self.transport.show_held(self.user_id)
        return True

    async def _store(self, text: str) -> int:
        """The line in the inbox, as a platform's update would be, under a sequence id."""
        self._lines += 1
        platform_id = f"{self._session}#{self._lines}"
        async with self.app.db.transaction() as conn:
            await inbox.store(conn, Channel.CONSOLE.value, platform_id,
                              json.dumps({"as": self.user_id, "text": text}, ensure_ascii=False),
                              self.app.clock.now())
            found = await inbox.by_platform_id(conn, Channel.CONSOLE.value, platform_id)
        assert found is not None
        return found.id

    async def run(self, lines: AsyncIterator[str]) -> None:
        await self.start()
        async for line in lines:
            if not await self.handle_line(line):
                break


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from stdin without blocking the loop (a pipe, a socket or a terminal is watched;
    anything else, such as a file or /dev/null, is read directly)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    # Only a pipe, a socket or a terminal can be watched by the event loop. Anything else never
    # blocks (a file, /dev/null) and is read directly: asyncio's loop refuses a file and waited
    # for ever on /dev/null; uvloop read nothing from a file and aborted on /dev/null.
    direct = not _watchable(sys.stdin)
    if not direct:
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        except (ValueError, OSError):
            direct = True
    if direct:
        for line in sys.stdin:
            yield line
        return
    while raw := await reader.readline():
        yield raw.decode("utf-8", errors="replace")


def _watchable(stream: TextIO) -> bool:
    try:
        mode = os.fstat(stream.fileno()).st_mode
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stream.isatty()
    except (OSError, ValueError):  # no file descriptor (a closed or replaced stdin)
        return False


def split_text(text: str) -> list[str]:
    """A terminal takes any length: one piece."""
    return [text]


# The parts every channel exposes (bot/channels/telegram, bot/channels/wechat).
Intake = ConsoleChannel
Transport = ConsoleTransport
