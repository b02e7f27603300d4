"""Telegram Update → the channel-neutral Incoming."""

from __future__ import annotations

import logging

from telegram import Chat, Message, Update

from handlers.types import Channel, Incoming, Location, split_command

log = logging.getLogger(__name__)


def _is_group(chat: Chat) -> bool:
    return chat.type != Chat.PRIVATE


def _name(update: Update) -> str:
    user = update.effective_user
    return user.full_name if user else ""


def _from_message(update: Update, message: Message) -> Incoming | None:
    user = message.from_user
    if message.sender_chat is not None:
        # Sent on behalf of a chat: an anonymous group admin (from = GroupAnonymousBot), a channel,
        # or a linked channel's automatic forward (from = 777000, not marked as a bot). No person
        # can be told apart, so nothing is done for it: rights are never granted to a chat.
        log.info("ignored message %s in chat %s sent on behalf of chat %s (from %s)", message.message_id,
                 message.chat.id, message.sender_chat.id, user.id if user else "-")
        return None
    if user is None or user.is_bot:
        return None
    text = message.text or message.caption or ""
    command, arg = split_command(message.text or "")
    photos = (message.photo[-1].file_id,) if message.photo else ()
    location = None
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
    return Incoming(
        channel=Channel.TELEGRAM,
        chat_id=str(message.chat.id),
        user_id=str(user.id),
        message_id=str(message.message_id),
        is_group=_is_group(message.chat),
        text="" if command else text,
        command=command,
        command_arg=arg,
        photos=photos,
        location=location,
        display_name=_name(update),
        chat_title=message.chat.title or "",
    )


def to_incoming(update: Update) -> Incoming | None:
    """The Incoming for a message or button press; None for updates the bot ignores."""
    if update.message is not None:
        return _from_message(update, update.message)
    query = update.callback_query
    if query is not None and query.data is not None:
        message = query.message
        chat_id = str(message.chat.id) if message is not None else str(query.from_user.id)
        is_group = _is_group(message.chat) if message is not None else False
        return Incoming(
            channel=Channel.TELEGRAM,
            chat_id=chat_id,
            user_id=str(query.from_user.id),
            message_id=str(message.message_id) if message is not None else "",
            is_group=is_group,
            button=query.data,
            display_name=_name(update),
        )
    return None
