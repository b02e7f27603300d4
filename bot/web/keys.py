"""What the workplace's handlers find on the application and the request."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.app import App
from bot.config_channels import HttpSettings
from bot.media import MediaStore
from bot.web.signin_limit import SignInLimiter
from storage.accounts import PersonRow


@dataclass(frozen=True)
class Workplace:
    app: App
    http: HttpSettings
    limiter: SignInLimiter
    media: MediaStore  # the channels' fetchers: the ticket page's photos come through the bot

    @property
    def secure_cookie(self) -> bool:
        return self.http.base_url().startswith("https://")


@dataclass(frozen=True)
class Staff:
    """The signed-in person of a request, and their session's CSRF token."""

    person: PersonRow
    csrf: str
    token: str  # the cookie's token (sign-out ends this session)


WORKPLACE = web.AppKey("workplace", Workplace)
STAFF = web.RequestKey("staff", Staff)  # set by the session middleware
