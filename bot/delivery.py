"""What one send of an outbox row came to, and what a channel's transport offers the sender."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.media import MediaError
from handlers.types import Reply
from storage.engine import Connection
from storage.outbox import OutboxRow


class DeliveryStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # not delivered: try again later
    FAILED = "failed"  # the platform refused it for good (400/403)
    # The outcome is unknown (a read timeout, a connection dropped after the request): it may
    # have been delivered. Neither platform has an idempotency key, so it is sent again as the
    # next try — a private chat sees the resend marker — rather than risk losing it.
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    message_id: str = ""
    error: str = ""
    retry_after: float | None = None
    moved_to: str = ""  # the chat has a new id (a Telegram group became a supergroup): resend there
    gone: bool = False  # the bot may no longer post here (removed from the group, blocked)
    unreached: bool = False  # the request never left (connection refused, connect timeout)
    # The photo or recording could not be fetched, uploaded or sent: after MEDIA_ATTEMPTS (at
    # once when `status` is FAILED) the recipient gets the caption with a note instead.
    media_failed: bool = False


def media_failure(error: MediaError) -> Delivery:
    """A fetch or upload that failed: retried, unless retrying cannot help."""
    status = DeliveryStatus.FAILED if error.permanent else DeliveryStatus.RETRY
    return Delivery(status, error=f"media: {error.reason}"[:300], media_failed=True)


class DeliveryFeedback(Protocol):
    """What a delivery teaches about a chat, recorded in the sender's transaction."""

    async def moved(self, conn: Connection, row: OutboxRow, new_chat_id: str) -> None: ...

    async def gone(self, conn: Connection, row: OutboxRow, reason: str) -> None: ...


class Transport(Protocol):
    """One channel's way of sending a Reply to a chat."""

    channel: str

    def is_group(self, chat_id: str) -> bool:
        """A group chat: a resent post goes as it is, without the private chats' resend marker."""
        ...

    def slot(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """Wait until the platform's rate limits allow one more message to this chat."""
        ...

    async def deliver(self, chat_id: str, reply: Reply, *, kind: str = "reply",
                      ticket_id: int | None = None) -> Delivery:
        """Send one row; `kind` and `ticket_id` let a channel pick a fallback (a WeChat template)."""
