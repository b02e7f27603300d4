"""Channel-neutral message types: what every channel adapter translates to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    CONSOLE = "console"
    WECOM = "wecom"  # 企业微信群机器人: outbound group notices only
    WEB = "web"  # the staff workplace (bot/web): acts on tickets, is never sent messages


class MembershipChange(StrEnum):
    """The bot itself was added to or removed from a group (not a member joining)."""

    JOINED = "joined"
    LEFT = "left"


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    label: str = ""


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: a text, a command, a button press, a photo or a location (or
    something unusable, or adding the bot to a group / removing it)."""

    channel: Channel
    chat_id: str
    user_id: str
    message_id: str = ""
    is_group: bool = False
    text: str = ""
    command: str = ""  # "start", "menu", ... without the slash
    command_arg: str = ""
    button: str = ""  # data of a pressed option
    photos: tuple[str, ...] = ()
    voices: tuple[str, ...] = ()  # voice recordings without a transcript, by platform id
    location: Location | None = None
    display_name: str = ""
    chat_title: str = ""  # a group's name
    unsupported: str = ""  # something the user sent that no flow can use (a sticker): its kind
    membership: MembershipChange | None = None  # user_id added or removed the bot (a group)


@dataclass(frozen=True)
class Option:
    """A choice offered to the user: an inline button, a numbered line, a WeChat menu item."""

    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """One message to one chat. Text is plain: adapters never interpret markup in it."""

    text: str
    options: tuple[Option, ...] = ()
    link: str = ""
    link_label: str = ""
    photo: str = ""  # a photo's platform id: the text is its caption
    main_keyboard: bool = False
    voice: str = ""  # a voice recording's platform id (the text is its caption)
    # The channel whose platform holds `photo`/`voice` when it is not the recipient's: the
    # sender fetches it there and uploads it (a WeChat photo to a Telegram leader).
    media_from: str = ""

    @property
    def media(self) -> str:
        return self.photo or self.voice

    def to_payload(self) -> dict:
        """The JSON form stored in an outbox row (media keys only when set: older rows lack them)."""
        payload = {
            "text": self.text,
            "options": [[o.label, o.data] for o in self.options],
            "link": self.link,
            "link_label": self.link_label,
            "photo": self.photo,
            "main_keyboard": self.main_keyboard,
        }
        if self.voice:
            payload["voice"] = self.voice
        if self.media_from:
            payload["media_from"] = self.media_from
        return payload

    @classmethod
    def from_payload(cls, payload: dict) -> Reply:
        return cls(
            text=payload.get("text", ""),
            options=tuple(Option(label, data) for label, data in payload.get("options", [])),
            link=payload.get("link", ""),
            link_label=payload.get("link_label", ""),
            photo=payload.get("photo", ""),
            main_keyboard=bool(payload.get("main_keyboard", False)),
            voice=payload.get("voice", ""),
            media_from=payload.get("media_from", ""),
        )


@dataclass(frozen=True)
class Address:
    community_id: str
    compound: str
    building: str
    grid_id: str

    @property
    def label(self) -> str:
        return f"{self.compound}{self.building}"


@dataclass(frozen=True)
class Recipient:
    """A chat account a notification goes to."""

    channel: Channel
    chat_id: str


@dataclass(frozen=True)
class Notification:
    recipient: Recipient
    reply: Reply
    kind: str = "notice"
    ticket_id: int | None = None
    run_id: int | None = None  # an announcement run, for its delivery report


@dataclass
class Outcome:
    """What handling one Incoming produced: replies to the sender and notifications to others."""

    replies: list[Reply] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    schedule_changed: bool = False  # an announcement was added, edited or cancelled

    def say(self, reply: Reply) -> None:
        self.replies.append(reply)


def split_command(text: str) -> tuple[str, str]:
    """("report", "") from "/report", ("start", "bind-AB12") from "/start bind-AB12"; else ("", "")."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return "", ""
    head, _, arg = stripped[1:].partition(" ")
    command = head.split("@", 1)[0].lower()
    return (command, arg.strip()) if command.isascii() and command.replace("_", "").isalnum() else ("", "")
