"""WeCom (企业微信) group robots: outbox delivery of group notices through each robot's webhook.

The webhook key is a secret that is part of the URL, so neither the key nor the URL is ever put
in a log line or a Delivery error (aiohttp's exception texts can contain the URL: we use only
their type names).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager

import aiohttp

from bot.channels.wechat.render import split_utf8
from bot.config_channels import WeComSettings
from bot.ratelimit import LOOP_TIMER, LeakyBucket, Timer
from bot.sender import Delivery, DeliveryStatus
from handlers.types import Channel, Reply

WEBHOOK_PATH = "/cgi-bin/webhook/send"
TEXT_LIMIT_BYTES = 2048  # text.content, UTF-8
FREQ_LIMIT_RETRY_SECONDS = 60.0  # the robot limit is per minute
MAX_PER_MINUTE = 20
_RETRY_ERRCODES = {-1: "system busy"}
_FREQ_LIMIT = 45009
_INVALID_WEBHOOK = 93000  # the key was revoked or the robot removed from its group


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Parts of at most ``limit`` UTF-8 bytes; we split rather than truncate, since a group
    notice (a ticket card, an announcement) is only useful whole."""
    return [part for part in split_utf8(text, limit) if part.strip()]


def content_of(reply: Reply) -> str:
    """The text a group sees. Options are buttons only a private chat can press, so they are left out."""
    return f"{reply.text}\n{reply.link}" if reply.link else reply.text


class WeComTransport:
    """Posts text messages through group robots; ``chat_id`` is a robot id from the config."""

    channel = Channel.WECOM.value

    def __init__(self, session: aiohttp.ClientSession, settings: WeComSettings,
                 keys: Mapping[str, str], *, per_minute: int | None = None,
                 timeout: float = 10.0, connect_timeout: float = 5.0, timer: Timer = LOOP_TIMER) -> None:
        self.session = session
        self.base_url = settings.api_base_url.rstrip("/")
        self.robots = {robot.id: robot for robot in settings.robots}
        self._keys = dict(keys)
        self.per_minute = settings.per_minute if per_minute is None else per_minute
        if not 1 <= self.per_minute <= MAX_PER_MINUTE:
            raise ValueError(f"per_minute must be 1..{MAX_PER_MINUTE}, not {self.per_minute}")
        # sock_read starts once the request is written: its expiry means "maybe posted".
        self.timeout = aiohttp.ClientTimeout(total=timeout + connect_timeout,
                                             connect=connect_timeout, sock_read=timeout)
        self._timer = timer
        self._limiters: dict[str, LeakyBucket] = {}

    def _limiter(self, robot_id: str) -> LeakyBucket:
        limiter = self._limiters.get(robot_id)
        if limiter is None:  # robots come from the config, so this dict stays small
            # A leaky bucket lets its capacity burst on top of its rate; half and half keeps
            # any 60-second window within per_minute, as WeCom counts it.
            limiter = self._limiters[robot_id] = LeakyBucket(max(self.per_minute / 2, 1), 60, self._timer)
        return limiter

    def is_group(self, chat_id: str) -> bool:
        return True  # a robot posts to its group: a resend goes as it is

    def slot(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """No wait before the call: this channel's limits (if any) are kept inside deliver."""
        return contextlib.nullcontext()

    async def deliver(self, chat_id: str, reply: Reply, *, kind: str = "reply",
                      ticket_id: int | None = None) -> Delivery:
        """Post ``reply`` to the robot's group; a group has no fallback, so ``kind`` is unused."""
        robot = self.robots.get(chat_id)
        if robot is None:
            return Delivery(DeliveryStatus.FAILED, error=f"unknown WeCom robot {chat_id!r}")
        key = self._keys.get(chat_id, "")
        if not key:
            return Delivery(DeliveryStatus.FAILED,
                            error=f"no webhook key for WeCom robot {chat_id!r}: set {robot.key_env}")
        parts = split_text(content_of(reply))
        if not parts:
            return Delivery(DeliveryStatus.FAILED, error="empty message: nothing to post")
        for index, part in enumerate(parts):
            async with self._limiter(chat_id):
                result = await self._post(key, {"msgtype": "text", "text": {"content": part}})
            if result.status is DeliveryStatus.SENT:
                continue
            if index == 0:
                return result
            # Not all of it arrived: sent again whole on the next try (the group sees the first
            # parts twice) rather than left incomplete.
            return Delivery(DeliveryStatus.UNCERTAIN,
                            error=f"posted {index} of {len(parts)} parts, then {result.status}: "
                                  f"{result.error}")
        return Delivery(DeliveryStatus.SENT)

    async def _post(self, key: str, payload: dict) -> Delivery:
        try:
            async with self.session.post(f"{self.base_url}{WEBHOOK_PATH}", params={"key": key},
                                         json=payload, timeout=self.timeout) as response:
                if response.status >= 500 or response.status == 429:
                    return Delivery(DeliveryStatus.RETRY, error=f"HTTP {response.status}")
                if response.status != 200:
                    return Delivery(DeliveryStatus.FAILED, error=f"HTTP {response.status}")
                answer = await response.json(content_type=None)
        except aiohttp.ConnectionTimeoutError:
            return Delivery(DeliveryStatus.RETRY, error="connect timeout", unreached=True)
        except TimeoutError:
            return Delivery(DeliveryStatus.UNCERTAIN, error="read timeout: may have been posted")
        except aiohttp.ClientConnectorError as exc:  # never connected: the post did not leave
            return Delivery(DeliveryStatus.RETRY, error=f"network: {type(exc).__name__}", unreached=True)
        except aiohttp.ClientConnectionError as exc:  # dropped once connected: it may have been posted
            return Delivery(DeliveryStatus.UNCERTAIN, error=f"network: {type(exc).__name__}: may have been posted")
        except (aiohttp.ClientError, ValueError) as exc:  # the answer came but was unreadable
            return Delivery(DeliveryStatus.UNCERTAIN, error=f"bad answer: {type(exc).__name__}")
        return _from_errcode(answer)


def _from_errcode(answer: object) -> Delivery:
    if not isinstance(answer, dict) or not isinstance(answer.get("errcode"), int):
        return Delivery(DeliveryStatus.UNCERTAIN, error="bad answer: no errcode")
    errcode = answer["errcode"]
    errmsg = str(answer.get("errmsg") or "").split(", hint:", 1)[0][:150]
    if errcode == 0:
        return Delivery(DeliveryStatus.SENT)
    if errcode == _FREQ_LIMIT:
        return Delivery(DeliveryStatus.RETRY, error=f"{errcode} {errmsg}",
                        retry_after=FREQ_LIMIT_RETRY_SECONDS)
    if errcode in _RETRY_ERRCODES:
        return Delivery(DeliveryStatus.RETRY, error=f"{errcode} {_RETRY_ERRCODES[errcode]}")
    # 93000 (invalid webhook url: key revoked or robot removed), 40008, 40058, ...: resending
    # the same request would be refused the same way.
    return Delivery(DeliveryStatus.FAILED, error=f"{errcode} {errmsg}", gone=errcode == _INVALID_WEBHOOK)
