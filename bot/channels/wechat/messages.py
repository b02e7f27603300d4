"""A WeChat message or event (already checked XML) in the channel-neutral Incoming form."""

from __future__ import annotations

from dataclasses import dataclass, replace

from wechatpy import parse_message
from wechatpy.events import ClickEvent, SubscribeEvent, SubscribeScanEvent
from wechatpy.messages import BaseMessage, ImageMessage, LocationMessage, TextMessage

from handlers.formatting import parse_id
from handlers.types import Channel, Incoming, Location, split_command
from storage.wechat import Interaction

PHOTO_SEPARATOR = "|"


def platform_id(fields: dict[str, str]) -> str:
    """WeChat's retry key: MsgId for messages; sender, time, event and key for events."""
    msg_id = fields.get("MsgId", "")
    if msg_id and msg_id != "0":
        return f"msg:{msg_id}"
    parts = (fields.get("FromUserName", ""), fields.get("CreateTime", ""), fields.get("Event", ""),
             fields.get("EventKey", ""))
    return "event:" + "|".join(parts)


def photo_ref(media_id: str, pic_url: str) -> str:
    """Both kept: the MediaId for pushing the photo back through WeChat, PicUrl for anyone else."""
    return f"{media_id}{PHOTO_SEPARATOR}{pic_url}"


def media_id_of(ref: str) -> str:
    return ref.split(PHOTO_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class WeChatMessage:
    openid: str
    interaction: Interaction | None  # None: nothing that opens the customer-service window
    incoming: Incoming | None  # None: an event to store and skip
    menu_item_id: int | None = None  # a tapped msgmenu item (text with bizmsgmenuid)


def to_message(xml: str, fields: dict[str, str]) -> WeChatMessage:
    message: BaseMessage = parse_message(xml)
    openid = message.source or ""
    base = Incoming(channel=Channel.WECHAT, chat_id=openid, user_id=openid,
                    message_id=platform_id(fields))
    if message.type == "event":
        return _event(message, base)
    if isinstance(message, TextMessage):
        text = (message.content or "").strip()
        menu_id = fields.get("bizmsgmenuid", "")
        command, arg = split_command(text)
        incoming = replace(base, command=command, command_arg=arg) if command else replace(base, text=text)
        return WeChatMessage(openid, Interaction.MESSAGE, incoming,
                             parse_id(menu_id))
    if isinstance(message, ImageMessage):
        ref = photo_ref(message.media_id or "", message.image or "")
        return WeChatMessage(openid, Interaction.MESSAGE, replace(base, photos=(ref,)))
    if isinstance(message, LocationMessage):
        location = Location(float(message.location_x or 0), float(message.location_y or 0),
                            message.label or "")
        return WeChatMessage(openid, Interaction.MESSAGE, replace(base, location=location))
    # Voice, video, files, links: an empty Incoming, which the handlers answer as unsupported.
    return WeChatMessage(openid, Interaction.MESSAGE, base)


def _event(message: BaseMessage, base: Incoming) -> WeChatMessage:
    openid = base.user_id
    if isinstance(message, SubscribeEvent | SubscribeScanEvent):
        return WeChatMessage(openid, Interaction.MESSAGE, replace(base, command="start"))
    if isinstance(message, ClickEvent):
        return WeChatMessage(openid, Interaction.TAP, replace(base, button=message.key or ""))
    # Unfollow, location reports, menu links and events we do not use need no answer.
    return WeChatMessage(openid, None, None)
