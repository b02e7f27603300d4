"""What each flow remembers between messages: one frozen dataclass per flow, stored as JSON.

`to_dict` writes the keys this bot has always written (a field that is not set yet is left
out, as before), and `from_dict` reads what any earlier version wrote, so a dialog left
half-finished across an upgrade continues where it was. A value that cannot be read raises
ValueError (or KeyError / TypeError) for `handlers.dialog_state` to handle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.types import Address
from storage.announcements import TargetKind
from storage.clock import parse_stamp, stamp


class Flow(StrEnum):
    REPORT = "report"
    RESOLVE = "resolve"  # a staff 办结 note
    REASSIGN = "reassign"  # a staff 转派: grid, then reason
    ADD_INFO = "add_info"  # a resident's 补充信息
    CONTACT = "contact"  # 联系网格: asks the address first
    ANNOUNCE = "announce"
    ANNOUNCE_EDIT = "announce_edit"
    OFFER = "offer"  # remembers free text so 「把这段话作为反映提交」 can prefill a report
    COMPLAINT = "complaint"  # 不满意: asks why before the ticket is reopened one level up
    SIGNUP = "signup"  # 报名: asks for the name and phone to give the organiser
    LIST = "list"  # remembers the list shown outside a dialog, so typed 更多 / 上一页 turn its page


def _address(value: Any) -> Address | None:
    return Address(**value) if value else None


def _ticket(data: dict) -> int:
    return int(data["ticket"])  # older rows may hold it as text


@dataclass(frozen=True)
class Guess:
    """A typed address matched to a compound, or to one of its buildings (its index)."""

    compound: str
    building: int | None
    place: int | None = None  # a public place (its index) instead of a compound


@dataclass(frozen=True)
class AddressPick:
    """The address steps' answers so far (community → compound → building, or typed guesses)."""

    community: str = ""
    compound: str = ""
    guesses: tuple[Guess, ...] = ()
    detail: str = ""  # the flat typed after the building, kept with the guesses
    page: int = 0  # the page of the list shown at the current step (「更多」)
    near: int | None = None  # the public place near the location sent, offered at place_near

    def to_dict(self) -> dict:
        data: dict[str, Any] = {}
        if self.page:
            data["page"] = self.page
        if self.near is not None:
            data["near"] = self.near
        if self.detail:
            data["detail"] = self.detail
        if self.community:
            data["community"] = self.community
        if self.compound:
            data["compound"] = self.compound
        if self.guesses:
            # A place is written only for a place guess: older rows keep their shape.
            data["guesses"] = [{k: v for k, v in asdict(g).items() if k != "place" or v is not None}
                               for g in self.guesses]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AddressPick:
        guesses = tuple(Guess(str(g["compound"]), None if g["building"] is None else int(g["building"]),
                              None if g.get("place") is None else int(g["place"]))
                        for g in data.get("guesses") or ())
        near = data.get("near")
        return cls(data.get("community") or "", data.get("compound") or "", guesses,
                   str(data.get("detail") or ""), int(data.get("page") or 0), None if near is None else int(near))


@dataclass(frozen=True)
class ReportState:
    description: str = ""
    photos: tuple[str, ...] = ()
    location: tuple[float, float] | None = None
    bound: Address | None = None  # the address the resident reported from before
    known_phone: str = ""
    category: str = ""
    pick: AddressPick = field(default_factory=AddressPick)
    address: Address | None = None
    address_step: str = ""  # the address prompt answered last, for 返回 from the phone step
    phone: str | None = None  # None: not asked yet; "": 不留电话
    flat: str | None = None  # unit/room; None: neither typed with the address nor asked yet
    flat_asked: bool = False  # the flat step was shown (返回 from the phone step goes there)
    offered: tuple[int, ...] = ()  # the tickets 我也遇到 was offered for at the summary
    voices: tuple[str, ...] = ()  # voice messages without a transcript, by platform id

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"description": self.description, "photos": list(self.photos),
                                "location": list(self.location) if self.location else None}
        if self.bound:
            data["bound"] = asdict(self.bound)
        if self.known_phone:
            data["known_phone"] = self.known_phone
        if self.category:
            data["category"] = self.category
        data.update(self.pick.to_dict())
        if self.address:
            data["address"] = asdict(self.address)
        if self.address_step:
            data["address_step"] = self.address_step
        if self.phone is not None:
            data["phone"] = self.phone
        if self.offered:
            data["offered"] = list(self.offered)
        if self.flat is not None:
            data["flat"] = self.flat
        if self.flat_asked:
            data["flat_asked"] = True
        if self.voices:
            data["voices"] = list(self.voices)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ReportState:
        location = data.get("location")
        return cls(
            description=data.get("description") or "", photos=tuple(data.get("photos") or ()),
            location=(float(location[0]), float(location[1])) if location else None,
            bound=_address(data.get("bound")), known_phone=data.get("known_phone") or "",
            category=data.get("category") or "", pick=AddressPick.from_dict(data),
            address=_address(data.get("address")), address_step=data.get("address_step") or "",
            phone=data.get("phone"), offered=tuple(int(i) for i in data.get("offered") or ()),
            flat=data.get("flat"), flat_asked=bool(data.get("flat_asked")),
            voices=tuple(data.get("voices") or ()),
        )


@dataclass(frozen=True)
class ResolveState:
    ticket: int

    def to_dict(self) -> dict:
        return {"ticket": self.ticket}

    @classmethod
    def from_dict(cls, data: dict) -> ResolveState:
        return cls(_ticket(data))


@dataclass(frozen=True)
class ReassignState:
    ticket: int
    grid: str = ""  # chosen at the "grid" step; the "reason" step needs it
    page: int = 0  # the page of the grid list shown ("grid" and "which" steps)
    choices: tuple[str, ...] = ()  # "which": the grids a typed name matched, in list order
    reason: str = ""  # a reason typed with the grid, kept while the grid is being picked

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"ticket": self.ticket}
        if self.grid:
            data["grid"] = self.grid
        if self.page:
            data["page"] = self.page
        if self.choices:
            data["choices"] = list(self.choices)
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ReassignState:
        return cls(_ticket(data), data.get("grid") or "", int(data.get("page") or 0),
                   tuple(str(g) for g in data.get("choices") or ()), str(data.get("reason") or ""))


@dataclass(frozen=True)
class AddInfoState:
    ticket: int

    def to_dict(self) -> dict:
        return {"ticket": self.ticket}

    @classmethod
    def from_dict(cls, data: dict) -> AddInfoState:
        return cls(_ticket(data))


@dataclass(frozen=True)
class ComplaintState:
    ticket: int

    def to_dict(self) -> dict:
        return {"ticket": self.ticket}

    @classmethod
    def from_dict(cls, data: dict) -> ComplaintState:
        return cls(_ticket(data))


@dataclass(frozen=True)
class ContactState:
    pick: AddressPick = field(default_factory=AddressPick)
    change: bool = False  # 修改地址: the resident is replacing the address they gave before

    def to_dict(self) -> dict:
        data = self.pick.to_dict()
        if self.change:
            data["change"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ContactState:
        return cls(AddressPick.from_dict(data), bool(data.get("change")))


@dataclass(frozen=True)
class AnnounceState:
    text: str = ""
    kind: TargetKind | None = None
    target: str = ""  # the community or grid id; "" for all groups
    first_run_at: datetime | None = None
    cron: str = ""  # a repeating announcement's rule; "" for a one-off
    rule: str = ""  # 「立即」「每周六 08:00」… as typed, read again at 确认发布
    capacity: int | None = None  # with a sign-up
    starts_at: datetime | None = None  # the activity's start, with a sign-up
    page: int = 0  # the page of the target list shown (9 a page, handlers/paging.py)

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"text": self.text} if self.text else {}
        if self.page:
            data["page"] = self.page
        if self.kind is not None:
            data.update(kind=self.kind.value, target=self.target)
        if self.first_run_at is not None:
            data.update(first_run_at=stamp(self.first_run_at), cron=self.cron, rule=self.rule)
        if self.capacity is not None and self.starts_at is not None:
            data.update(capacity=self.capacity, starts_at=stamp(self.starts_at))
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AnnounceState:
        first, starts = data.get("first_run_at"), data.get("starts_at")
        return cls(
            text=data.get("text") or "", kind=TargetKind(data["kind"]) if data.get("kind") else None,
            target=data.get("target") or "", first_run_at=parse_stamp(first) if first else None,
            cron=data.get("cron") or "", rule=data.get("rule") or "",
            capacity=int(data["capacity"]) if data.get("capacity") and starts else None,
            starts_at=parse_stamp(starts) if starts and data.get("capacity") else None,
            page=int(data.get("page") or 0),
        )


@dataclass(frozen=True)
class AnnounceEditState:
    announcement_id: int
    part: str = "text"  # text | start (the activity's time) | places

    def to_dict(self) -> dict:
        return {"id": self.announcement_id} | ({"part": self.part} if self.part != "text" else {})

    @classmethod
    def from_dict(cls, data: dict) -> AnnounceEditState:
        part = str(data.get("part") or "text")
        if part not in ("text", "start", "places"):
            raise ValueError(f"unknown part {part!r}")
        return cls(int(data["id"]), part)


@dataclass(frozen=True)
class SignupState:
    announcement_id: int
    wait: bool = False  # joining the waiting list of a full activity

    def to_dict(self) -> dict:
        return {"id": self.announcement_id, "wait": self.wait}

    @classmethod
    def from_dict(cls, data: dict) -> SignupState:
        return cls(int(data["id"]), bool(data.get("wait")))


@dataclass(frozen=True)
class OfferState:
    text: str

    def to_dict(self) -> dict:
        return {"text": self.text}

    @classmethod
    def from_dict(cls, data: dict) -> OfferState:
        return cls(str(data.get("text") or ""))


@dataclass(frozen=True)
class ListState:
    """A list shown outside any dialog (近期活动, 我的工单, 公告列表): which, and its page."""

    kind: str
    page: int = 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "page": self.page}

    @classmethod
    def from_dict(cls, data: dict) -> ListState:
        return cls(str(data["kind"]), int(data.get("page") or 0))


FlowState = (ReportState | ResolveState | ReassignState | AddInfoState | ContactState | AnnounceState
             | AnnounceEditState | OfferState | ComplaintState | SignupState
             | ListState)
STATES: dict[Flow, type[FlowState]] = {
    Flow.REPORT: ReportState, Flow.RESOLVE: ResolveState, Flow.REASSIGN: ReassignState,
    Flow.ADD_INFO: AddInfoState, Flow.CONTACT: ContactState, Flow.ANNOUNCE: AnnounceState,
    Flow.ANNOUNCE_EDIT: AnnounceEditState, Flow.OFFER: OfferState, Flow.COMPLAINT: ComplaintState,
    Flow.SIGNUP: SignupState, Flow.LIST: ListState,
}
