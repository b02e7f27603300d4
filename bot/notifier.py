"""Who is told when work appears: senders when rows are queued for their channel, the scheduler
when announcements change. One object, handed out by the bootstrap, instead of lists of events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class Notifier:
    def __init__(self) -> None:
        self._outbox: dict[str, list[asyncio.Event]] = {}  # channel → its senders' wake events
        self._schedule: list[asyncio.Event] = []

    def subscribe(self, channel: str) -> asyncio.Event:
        """An event set whenever rows are queued for `channel` (a sender waits on it)."""
        event = asyncio.Event()
        self._outbox.setdefault(channel, []).append(event)
        return event

    def subscribe_schedule(self) -> asyncio.Event:
        """An event set whenever announcements change (the scheduler waits on it)."""
        event = asyncio.Event()
        self._schedule.append(event)
        return event

    @property
    def schedule_watched(self) -> bool:
        """Whether a scheduler is listening (it subscribes once it has started)."""
        return bool(self._schedule)

    def outbox_queued(self, channels: Iterable[str] | None = None) -> None:
        """Rows were queued for these channels (all when None). Only their senders wake: a sender
        woken for nothing still costs a database transaction, and every handling waits behind it."""
        wanted = None if channels is None else set(channels)
        for channel, events in self._outbox.items():
            if wanted is None or channel in wanted:
                for event in events:
                    event.set()

    def schedule_changed(self) -> None:
        for event in self._schedule:
            event.set()
