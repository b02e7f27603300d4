"""A stored Telegram update → the channel-neutral Incoming, or why it is skipped.

What a message holds is read from the raw JSON as Telegram sent it, not from PTB's object, so a
field this PTB does not know is still seen (and answered, in a private chat).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ChatMember,
    ChatMemberRestricted,
    ChatMemberUpdated,
    Message,
    Update,
)

from bot.channels.telegram.kinds import HANDLED_CONTENT, MESSAGE_METADATA, SERVICE_FIELDS
from bot.channels.telegram.media import AUDIO_PREFIX
from handlers.types import Channel, Incoming, Location, MembershipChange, split_command

log = logging.getLogger(__name__)

USED_KINDS = ("message", "callback_query", "my_chat_member")


@dataclass(frozen=True)
class Skip:
    """An update the bot does not act on, and why (stored with it: `update: edited_message`)."""

    reason: str
    sender: str = ""


def _is_group(chat: Chat) -> bool:
    return chat.type != Chat.PRIVATE


def _name(update: Update) -> str:
    user = update.effective_user
    return user.full_name if user else ""


def update_kind(raw: dict[str, Any]) -> str:
    return next((key for key in raw if key != "update_id"), "empty")


def _content(raw_message: dict[str, Any]) -> list[str]:
    """The fields that say what a message is (text, a sticker, a service event), in order."""
    return [key for key in raw_message if key not in MESSAGE_METADATA]


def _from_message(update: Update, message: Message, raw_message: dict[str, Any]) -> Incoming | Skip:
    user = message.from_user
    sender = str(user.id) if user else ""
    if message.sender_chat is not None:
        # Sent on behalf of a chat: an anonymous group admin (from = GroupAnonymousBot), a channel,
        # or a linked channel's automatic forward (from = 777000, not marked as a bot). No person
        # can be told apart, so nothing is done for it: rights are never granted to a chat.
        log.info("ignored message %s in chat %s sent on behalf of chat %s (from %s)", message.message_id,
                 message.chat.id, message.sender_chat.id, user.id if user else "-")
        return Skip("sent on behalf of a chat")
    if user is None or user.is_bot:
        return Skip("not sent by a person")
    content = _content(raw_message)
    is_group = _is_group(message.chat)
    if not any(key in HANDLED_CONTENT for key in content):
        if content and all(key in SERVICE_FIELDS for key in content):
            return Skip(f"service: {','.join(content)}", sender)
        if is_group or not content:
            return Skip(f"content: {','.join(content) or 'none'}", sender)
    text = message.text or message.caption or ""
    command, arg = split_command(message.text or "")
    photos = (message.photo[-1].file_id,) if message.photo else ()
    # A voice message (or an audio file) is kept by its file id and reaches the handler as audio.
    voices: tuple[str, ...] = ()
    if message.voice is not None:
        voices = (message.voice.file_id,)
    elif message.audio is not None:
        voices = (f"{AUDIO_PREFIX}{message.audio.file_id}",)
    location = None
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
    unusable = next((key for key in content if key not in HANDLED_CONTENT), "")
    return Incoming(
        channel=Channel.TELEGRAM,
        chat_id=str(message.chat.id),
        user_id=sender,
        message_id=str(message.message_id),
        is_group=is_group,
        text="" if command else text,
        command=command,
        command_arg=arg,
        photos=photos,
        voices=voices,
        location=location,
        display_name=_name(update),
        chat_title=message.chat.title or "",
        unsupported="" if (text or photos or voices or location) else unusable,
    )


def _from_press(update: Update, query: CallbackQuery) -> Incoming | Skip:
    presser = str(query.from_user.id)
    if query.data is None:
        return Skip("callback without data", presser)
    message = query.message  # a Message or an InaccessibleMessage; None for an inline message
    chat = message.chat if message is not None else None
    if chat is not None and chat.type == Chat.PRIVATE and str(chat.id) != presser:
        # Telegram only shows a private chat's buttons to its own user: this press was made up.
        # Acting on it would answer into somebody else's chat (issue 10, item 9).
        log.warning("refused button press by user %s on message %s of another private chat %s",
                    presser, message.message_id if message is not None else "-", chat.id)
        return Skip("refused: pressed on a message in another private chat", presser)
    is_group = chat is not None and _is_group(chat)
    return Incoming(
        channel=Channel.TELEGRAM,
        # Answers go to the presser's own private chat, or to the group the button is in.
        chat_id=str(chat.id) if is_group and chat is not None else presser,
        user_id=presser,
        message_id=str(message.message_id) if message is not None else "",
        is_group=is_group,
        button=query.data,
        display_name=_name(update),
    )


def _present(member: ChatMember) -> bool:
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def _from_membership(update: Update, change: ChatMemberUpdated) -> Incoming | Skip:
    actor = str(change.from_user.id)
    if not _is_group(change.chat) or change.chat.type == Chat.CHANNEL:
        return Skip("update: my_chat_member", actor)  # a resident blocking the bot, a channel
    was, now = _present(change.old_chat_member), _present(change.new_chat_member)
    if was == now:
        return Skip("update: my_chat_member", actor)  # e.g. made an administrator
    return Incoming(
        channel=Channel.TELEGRAM,
        chat_id=str(change.chat.id),
        user_id=actor,
        is_group=True,
        display_name=_name(update),
        chat_title=change.chat.title or "",
        membership=MembershipChange.JOINED if now else MembershipChange.LEFT,
    )


def translate(update: Update, raw: dict[str, Any]) -> Incoming | Skip:
    """The Incoming for a message, a button press or the bot's own membership of a group;
    a Skip saying why for everything else."""
    if update.message is not None:
        return _from_message(update, update.message, raw["message"])
    if update.callback_query is not None:
        return _from_press(update, update.callback_query)
    if update.my_chat_member is not None:
        return _from_membership(update, update.my_chat_member)
    user = update.effective_user
    return Skip(f"update: {update_kind(raw)}", str(user.id) if user else "")


def private_chat_of(raw: dict[str, Any]) -> str | None:
    """The private chat an update came from, read from the raw JSON (for an apology when it
    cannot be parsed); None for groups, channels and anything unclear."""
    for value in raw.values():
        if not isinstance(value, dict):
            continue
        chat = value.get("chat")
        if isinstance(chat, dict) and chat.get("type") == "private" and isinstance(chat.get("id"), int):
            return str(chat["id"])
        user = value.get("from")
        if "data" in value and isinstance(user, dict) and isinstance(user.get("id"), int):
            return str(user["id"])  # a button press: the presser's own chat
    return None


def without_card(raw: dict[str, Any]) -> str | None:
    """The payload to keep once a button press is settled: the message it was attached to (often
    a ticket card with a resident's text) reduced to which chat and message it was. None when
    there is nothing to drop."""
    query = raw.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if not isinstance(message, dict):
        return None
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    kept = {"message_id": message.get("message_id"), "chat": {"id": chat.get("id"), "type": chat.get("type")}}
    return json.dumps({**raw, "callback_query": {**query, "message": kept}}, ensure_ascii=False)
