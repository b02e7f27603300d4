"""What a flow works with while it handles one Incoming."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from handlers.addresses import AddressBook
from handlers.button_codec import Button
from handlers.buttons import decode
from handlers.domain.model import Config, Links
from handlers.texts import Texts
from handlers.types import Incoming, Notification, Option, Outcome, Recipient, Reply
from storage.accounts import Account, PersonRow
from storage.dialogs import Dialog
from storage.engine import Connection


@dataclass(frozen=True)
class Services:
    """Long-lived, read-only things every flow needs."""

    config: Config
    texts: Texts
    addresses: AddressBook
    links: Links  # what flows need of the platforms: deep links, WeChat followers

    @property
    def timezone(self) -> str:
        return self.config.subdistrict.timezone


@dataclass
class Context:
    services: Services
    conn: Connection
    now: datetime
    incoming: Incoming
    account: Account
    person: PersonRow | None
    outcome: Outcome
    # The dialog row read with the account, before anything was written: the first load takes it
    # instead of asking the database again; any later load reads afresh. None: not read ahead.
    dialog_ahead: tuple[Dialog | None] | None = field(default=None, repr=False)

    def t(self, key: str, **values: object) -> str:
        return self.services.texts.t(key, **values)

    @property
    def pressed(self) -> Button | None:
        """The button pressed, decoded and checked; None when none was, or its data is not ours."""
        return decode(self.incoming.button)

    def say(self, text: str, *options: tuple[str, Button], **extra: object) -> None:
        if not all(isinstance(button, Button) for _, button in options):
            raise TypeError("options are (label, Button): button data is built by handlers.buttons")
        self.outcome.say(
            Reply(text=text, options=tuple(Option(label, button.encode()) for label, button in options), **extra)
        )

    def notify(self, recipient: Recipient, reply: Reply, kind: str, ticket_id: int | None) -> None:
        self.outcome.notifications.append(Notification(recipient, reply, kind, ticket_id))
