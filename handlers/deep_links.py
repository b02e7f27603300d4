"""What a /start can carry: Telegram deep links (t.me/<bot>?start=…), typed or tapped.

`decode` is the only reader of a /start argument; it never raises, and data naming no
announcement by a valid id (「signup-²」, forty digits) is no link at all (a plain /start).
An invite code is not checked here: a wrong one must still count as a wrong guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.formatting import parse_id


@dataclass(frozen=True)
class BindLink:
    """The invite link printed by `fengshan-bot invite`."""

    code: str

    def encode(self) -> str:
        return f"bind-{self.code}"


@dataclass(frozen=True)
class ReportLink:
    """Where a report started in a group continues, in private chat."""

    def encode(self) -> str:
        return "report"


@dataclass(frozen=True)
class SignupLink:
    """报名 from an announcement posted in a group."""

    announcement_id: int

    def encode(self) -> str:
        return f"signup-{self.announcement_id}"


StartLink = BindLink | ReportLink | SignupLink


def decode(arg: str) -> StartLink | None:
    if arg.startswith("bind-"):
        return BindLink(arg.removeprefix("bind-"))
    if arg == "report":
        return ReportLink()
    announcement_id = parse_id(arg.removeprefix("signup-")) if arg.startswith("signup-") else None
    return SignupLink(announcement_id) if announcement_id is not None else None
