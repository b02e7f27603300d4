"""The report's and the address steps' buttons: category, phone, draft, flat, 我也遇到, and the
address pickers (communities, compounds, buildings, public places). Encoded and decoded with
every other kind through handlers/buttons.py, which lists them in its KINDS."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.button_codec import Button


class PhoneChoice(StrEnum):
    REUSE = "reuse"
    SKIP = "skip"


class DraftChoice(StrEnum):
    RESUME = "go"  # 继续 the unfinished report
    RESTART = "new"  # 重新开始: drop it


class AddressChoice(StrEnum):
    BOUND = "bound"  # the address the resident reported from before
    OTHER = "other"
    PUBLIC = "public"  # 公共区域: a road, a crossing, a park, a market
    NEAR = "near"  # the public place near the location the resident sent


@dataclass(frozen=True)
class CategoryButton(Button):
    FORMAT = "r:cat:{category_id}"
    category_id: str


@dataclass(frozen=True)
class PhoneButton(Button):
    FORMAT = "r:ph:{choice}"
    choice: PhoneChoice


@dataclass(frozen=True)
class DraftButton(Button):
    FORMAT = "r:draft:{choice}"
    choice: DraftChoice


@dataclass(frozen=True)
class SubmitReport(Button):
    FORMAT = "r:submit"


@dataclass(frozen=True)
class SkipFlat(Button):
    """跳过 at the report's optional unit/room question."""

    FORMAT = "r:flat:skip"


@dataclass(frozen=True)
class MeTooButton(Button):
    """我也遇到: follow an open ticket offered at the report summary."""

    FORMAT = "r:metoo:{ticket_id}"
    ticket_id: int


@dataclass(frozen=True)
class AddressButton(Button):
    FORMAT = "a:{choice}"
    PREFIXES = tuple(f"a:{choice}" for choice in AddressChoice)
    choice: AddressChoice


@dataclass(frozen=True)
class CommunityButton(Button):
    FORMAT = "a:com:{community_id}"
    community_id: str


@dataclass(frozen=True)
class CompoundButton(Button):
    """A compound by its index in the address book (names can be longer than 64 bytes)."""

    FORMAT = "a:cpd:{index}"
    index: int


@dataclass(frozen=True)
class BuildingButton(Button):
    FORMAT = "a:b:{index}"
    index: int


@dataclass(frozen=True)
class PlaceButton(Button):
    """A public place by its index in the address book."""

    FORMAT = "a:pl:{index}"
    index: int
