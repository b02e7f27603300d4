"""A WeChat message or event (already checked XML) in the channel-neutral Incoming form."""

from __future__ import annotations

from dataclasses import dataclass, replace

from wechatpy.events import EVENT_TYPES, ClickEvent, SubscribeEvent, SubscribeScanEvent
from wechatpy.messages import (
    MESSAGE_TYPES,
    BaseMessage,
    ImageMessage,
    LocationMessage,
    TextMessage,
    UnknownMessage,
    VoiceMessage,
)

from handlers.formatting import parse_id
from handlers.types import Channel, Incoming, Location, split_command
from storage.wechat import Interaction

PHOTO_SEPARATOR = "|"
# What WeChat's 语音识别 puts at the end of a transcript, not something the resident said: the
# 「。」 would stop 「我要反映。」 being the menu word and end up in every description.
TRANSCRIPT_END = "。．.!！ \u3000"


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


def parsed(fields: dict[str, str]) -> BaseMessage:
    """wechatpy's message or event class for the already checked fields: what
    `wechatpy.parse_message` builds, without parsing the XML a second time (xmltodict; it was
    about a twentieth of the bot's CPU per callback). Only the subscribe variants we use are
    told apart; every other event type keeps wechatpy's table."""
    data: dict[str, object] = {name: value for name, value in fields.items() if value != ""}
    kind = fields.get("MsgType", "").lower()
    if kind != "event":
        return MESSAGE_TYPES.get(kind, UnknownMessage)(data)
    event = fields.get("Event", "").lower()
    key = fields.get("EventKey", "")
    if event == "subscribe" and key.startswith("qrscene_"):
        event, data["Event"], data["EventKey"] = "subscribe_scan", "subscribe_scan", key[len("qrscene_"):]
    elif event == "subscribe" and key.startswith(("scanbarcode|", "scanimage|")):
        event = data["Event"] = "subscribe_scan_product"
    return EVENT_TYPES.get(event, UnknownMessage)(data)


def to_message(xml: str, fields: dict[str, str]) -> WeChatMessage:
    """`xml` is the raw message as stored (kept for the signature of callers); `fields` its
    checked fields (security.parse_xml), which are what is read."""
    message: BaseMessage = parsed(fields)
    openid = message.source or ""
    base = Incoming(channel=Channel.WECHAT, chat_id=openid, user_id=openid,
                    message_id=platform_id(fields))
    if message.type == "event":
        return _event(message, base)
    if isinstance(message, TextMessage):
        text = (message.content or "").strip()
        menu_id = fields.get("bizmsgmenuid", "")
        return WeChatMessage(openid, Interaction.MESSAGE, _typed(base, text), parse_id(menu_id))
    if isinstance(message, VoiceMessage):
        return WeChatMessage(openid, Interaction.MESSAGE, _voice(base, message))
    if isinstance(message, ImageMessage):
        ref = photo_ref(message.media_id or "", message.image or "")
        return WeChatMessage(openid, Interaction.MESSAGE, replace(base, photos=(ref,)))
    if isinstance(message, LocationMessage):
        location = Location(float(message.location_x or 0), float(message.location_y or 0),
                            message.label or "")
        return WeChatMessage(openid, Interaction.MESSAGE, replace(base, location=location))
    # Video, files, links: an empty Incoming, which the handlers answer as unsupported.
    return WeChatMessage(openid, Interaction.MESSAGE, base)


def _typed(base: Incoming, text: str) -> Incoming:
    command, arg = split_command(text)
    return replace(base, command=command, command_arg=arg) if command else replace(base, text=text)


def transcript(recognition: str) -> str:
    """WeChat's transcript as the resident would have typed it: without the closing 「。」."""
    return recognition.strip().rstrip(TRANSCRIPT_END).strip()


def _voice(base: Incoming, message: VoiceMessage) -> Incoming:
    """With 语音识别 on, WeChat's own transcript is used exactly as if typed; without one (off, or
    nothing it could write down) the recording itself is kept, by its MediaId, like a photo."""
    said = transcript(message.recognition or "")
    if said:
        return _typed(base, said)
    return replace(base, voices=(message.media_id or "",)) if message.media_id else base


def _event(message: BaseMessage, base: Incoming) -> WeChatMessage:
    openid = base.user_id
    if isinstance(message, SubscribeEvent | SubscribeScanEvent):
        return WeChatMessage(openid, Interaction.MESSAGE, replace(base, command="start"))
    if isinstance(message, ClickEvent):
        return WeChatMessage(openid, Interaction.TAP, replace(base, button=message.key or ""))
    # Unfollow, location reports, menu links and events we do not use need no answer.
    return WeChatMessage(openid, None, None)
