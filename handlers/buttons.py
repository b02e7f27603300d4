"""Button data as typed values: every kind of option the bot offers, encoded and decoded here.

Telegram sends a button's data back as it was sent (at most 64 bytes), WeChat and the console as
the option they listed; either way it is the user's to forge. `decode` takes any string and
returns a checked button (a known prefix, ids as `parse_id` reads them, actions from their
enums) or None; nothing else in handlers/ reads a prefix. The encoded forms are the ones that
were in use before this module, so buttons already sitting in residents' chats keep working, and
`encode(decode(data)) == data` for every data `decode` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.button_codec import Button, Codec, check_key
from handlers.report_buttons import (
    AddressButton,
    BuildingButton,
    CategoryButton,
    CommunityButton,
    CompoundButton,
    DraftButton,
    MeTooButton,
    PhoneButton,
    PlaceButton,
    SkipFlat,
    SubmitReport,
)
from storage.tickets import Rating


class NavAction(StrEnum):
    BACK = "back"
    CANCEL = "cancel"


class TicketVerb(StrEnum):
    ACK = "ack"  # 受理
    RESOLVE = "res"  # 办结
    REASSIGN = "re"  # 转派


class MyTicketVerb(StrEnum):
    ADD_INFO = "add"
    CANCEL = "cancel"  # asks to confirm
    CANCEL_CONFIRMED = "cancelok"


class MyDataAction(StrEnum):
    ASK = "ask"
    ERASE = "erase"
    KEEP = "keep"
    CHANGE_ADDRESS = "addr"  # 修改地址 (also offered by 联系网格)


class SignupVerb(StrEnum):
    LEAVE = "x"
    LIST = "l"  # the organiser's list
    WAIT = "w"  # join the waiting list (候补) of a full activity
    USE_CONTACT = "u"  # sign up with the name and phone given last time
    SKIP_CONTACT = "k"  # sign up without a name or phone


class AnnouncementsAction(StrEnum):
    LIST = "list"
    NEW = "new"


class AnnouncementVerb(StrEnum):
    VIEW = "v"
    EDIT = "e"  # its text
    CANCEL = "c"  # asks to confirm
    CANCEL_CONFIRMED = "cx"
    EDIT_START = "et"  # the activity's start
    EDIT_PLACES = "ep"  # the activity's places


class ListKind(StrEnum):
    """The lists shown outside any dialog that page (their page is in the button, not a dialog)."""

    ACTIVITIES = "act"  # 近期活动
    MY_TICKETS = "my"  # 我的工单
    ANNOUNCEMENTS = "ann"  # 公告列表


@dataclass(frozen=True)
class Nav(Button):
    """返回 / 取消 in any dialog (typed 返回 and 取消 become these too)."""

    FORMAT = "nav:{action}"
    action: NavAction


BACK, CANCEL = Nav(NavAction.BACK), Nav(NavAction.CANCEL)


@dataclass(frozen=True)
class MainMenu(Button):
    FORMAT = "menu"


@dataclass(frozen=True)
class ReportFromText(Button):
    """「把这段话作为反映提交」: a report prefilled with the free text just sent."""

    FORMAT = "report:text"


@dataclass(frozen=True)
class MenuButton(Button):
    FORMAT = "m:{key}"
    key: str

    def __post_init__(self) -> None:
        check_key(self.key)


@dataclass(frozen=True)
class ItemButton(Button):
    """A menu item; also the WeChat custom menu's click key."""

    FORMAT = "i:{key}"
    key: str

    def __post_init__(self) -> None:
        check_key(self.key)


@dataclass(frozen=True)
class TicketButton(Button):
    """受理 / 办结 / 转派 on a staff card."""

    FORMAT = "t:{verb}:{ticket_id}"
    verb: TicketVerb
    ticket_id: int


@dataclass(frozen=True)
class ReassignGrid(Button):
    """A grid offered in the 转派 list. Only acted on inside that ticket's 转派 dialog, and the
    grid is checked against the config and the ticket's current grid when pressed."""

    FORMAT = "rg:{ticket_id}:{grid_id}"
    ticket_id: int
    grid_id: str


@dataclass(frozen=True)
class RateButton(Button):
    FORMAT = "rate:{ticket_id}:{rating}"
    ticket_id: int
    rating: Rating


@dataclass(frozen=True)
class SkipReason(Button):
    """跳过 when 不满意 asks why: the ticket is reopened without a reason."""

    FORMAT = "why:skip"


@dataclass(frozen=True)
class ShowMyTicket(Button):
    """我的工单: one of the resident's tickets."""

    FORMAT = "my:{ticket_id}"
    ticket_id: int


@dataclass(frozen=True)
class MyTicketButton(Button):
    """补充信息 / 撤销 (and its confirmation) on one of the resident's tickets."""

    FORMAT = "my:{verb}:{ticket_id}"
    PREFIXES = tuple(f"my:{verb}:" for verb in MyTicketVerb)
    verb: MyTicketVerb
    ticket_id: int


@dataclass(frozen=True)
class MyDataButton(Button):
    FORMAT = "pd:{action}"
    action: MyDataAction


@dataclass(frozen=True)
class JoinSignup(Button):
    """报名 from the announcement (and the deep link's answer)."""

    FORMAT = "su:{announcement_id}"
    announcement_id: int


@dataclass(frozen=True)
class SignupButton(Button):
    """取消报名, and the organiser's list."""

    FORMAT = "su:{verb}:{announcement_id}"
    PREFIXES = tuple(f"su:{verb}:" for verb in SignupVerb)
    verb: SignupVerb
    announcement_id: int


@dataclass(frozen=True)
class AnnouncementsButton(Button):
    """公告列表 and 发布公告 from the admin's list."""

    FORMAT = "an:{action}"
    PREFIXES = tuple(f"an:{action}" for action in AnnouncementsAction)
    action: AnnouncementsAction


@dataclass(frozen=True)
class AnnouncementButton(Button):
    """One announcement in the admin's list: view, edit its text, cancel it."""

    FORMAT = "an:{verb}:{announcement_id}"
    PREFIXES = tuple(f"an:{verb}:" for verb in AnnouncementVerb)
    verb: AnnouncementVerb
    announcement_id: int


@dataclass(frozen=True)
class AnnounceToAll(Button):
    FORMAT = "an:t:all"


@dataclass(frozen=True)
class AnnounceToCommunity(Button):
    FORMAT = "an:t:c:{community_id}"
    community_id: str


@dataclass(frozen=True)
class AnnounceNow(Button):
    FORMAT = "an:w:now"


@dataclass(frozen=True)
class NoSignup(Button):
    FORMAT = "an:s:none"


@dataclass(frozen=True)
class ConfirmAnnouncement(Button):
    FORMAT = "an:ok"


@dataclass(frozen=True)
class PageButton(Button):
    """「更多」/「上一页」 of a long list: only the page, checked against the list shown."""

    FORMAT = "pg:{page}"
    page: int


@dataclass(frozen=True)
class ListPage(Button):
    """「更多」/「上一页」 of a list shown outside a dialog: which list and its page, checked against
    the list as it is when pressed (a dialog's list uses PageButton: the dialog knows the list)."""

    FORMAT = "lp:{kind}:{page}"
    kind: ListKind
    page: int


KINDS: tuple[type[Button], ...] = (
    Nav, MainMenu, ReportFromText, MenuButton, ItemButton, TicketButton, ReassignGrid,
    RateButton, SkipReason, ShowMyTicket, MyTicketButton, MyDataButton, JoinSignup, SignupButton,
    AnnouncementsButton, AnnouncementButton,
    AnnounceToAll, AnnounceToCommunity, AnnounceNow, NoSignup, ConfirmAnnouncement, CategoryButton,
    PhoneButton, DraftButton, SubmitReport, SkipFlat, MeTooButton, AddressButton, CommunityButton, CompoundButton,
    BuildingButton, PlaceButton, PageButton, ListPage,
)
_CODEC = Codec(KINDS)
claimed_kind = _CODEC.claimed_kind
decode = _CODEC.decode
