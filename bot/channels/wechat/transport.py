"""Pushes to WeChat followers: customer-service messages in the window, else a template, else a reason."""

from __future__ import annotations

import contextlib
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp

from bot.channels.wechat.api import WeChatAPI, WeChatError, WeChatHttpError
from bot.channels.wechat.media import WeChatMedia
from bot.channels.wechat.messages import media_id_of
from bot.channels.wechat.render import (
    escape,
    image_payload,
    msgmenu_payload,
    render_texts,
    template_payload,
    text_payload,
    voice_payload,
)
from bot.config_channels import WeChatSettings
from bot.media import MediaError, MediaKind, MediaStore
from bot.sender import Delivery, DeliveryStatus, media_failure
from handlers.texts import Texts
from handlers.types import Channel, Reply
from storage import wechat as state
from storage.clock import Clock
from storage.db import Database

CUSTOM_SEND = "/cgi-bin/message/custom/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"
SYSTEM_BUSY = -1
DAILY_QUOTA = 45009  # the account's daily API quota is used up: try again after midnight
WINDOW_CLOSED = frozenset({45015, 45047})  # out of the 48 h window / out of the push count
GONE = frozenset({43004, 40003, 43019})  # unfollowed, unknown openid, blocked
MEDIA_EXPIRED = 40007  # a follower's media_id is kept 3 days


def seconds_to_next_day(now: datetime, timezone: str) -> float:
    local = now.astimezone(ZoneInfo(timezone))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)
    return (midnight - local).total_seconds()


class WeChatTransport:
    channel = Channel.WECHAT.value

    def __init__(self, api: WeChatAPI, db: Database, clock: Clock, settings: WeChatSettings,
                 texts: Texts, timezone: str, media: MediaStore | None = None,
                 uploader: WeChatMedia | None = None) -> None:
        self.api = api
        self.media = media or MediaStore()
        self.uploader = uploader
        # Followers' media ids WeChat no longer knows: fetched again (PicUrl) and uploaded.
        self._expired: set[str] = set()
        self.db = db
        self.clock = clock
        self.settings = settings
        self.texts = texts
        self.timezone = timezone

    def is_group(self, chat_id: str) -> bool:
        return False  # every push goes to one follower

    def slot(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """No wait before the call: this channel's limits (if any) are kept inside deliver."""
        return contextlib.nullcontext()

    async def deliver(self, chat_id: str, reply: Reply, *, kind: str = "reply",
                      ticket_id: int | None = None) -> Delivery:
        try:
            reply = await self._uploaded(reply)
        except MediaError as exc:
            return media_failure(exc)
        async with self.db.writes() as conn:
            window = await state.take_window_slot(conn, chat_id, self.clock.now())
        if not window.allowed or window.used is None:
            return await self._fallback(chat_id, reply, kind, ticket_id, window.reason)
        try:
            for payload in await self._payloads(chat_id, reply):
                await self.api.post(CUSTOM_SEND, payload)
        except WeChatError as exc:
            if exc.code == MEDIA_EXPIRED and reply.media and reply.media not in self._expired:
                # Older than 3 days: the next try fetches the photo again and uploads it.
                self._expired.add(reply.media)
                return await self._give_back(chat_id, window.used, Delivery(
                    DeliveryStatus.RETRY, error="WeChat 40007: media_id expired; uploading afresh",
                    retry_after=0, media_failed=True))
            if exc.code in WINDOW_CLOSED:
                async with self.db.transaction() as conn:
                    await state.close_window(conn, chat_id)
                return await self._fallback(chat_id, reply, kind, ticket_id, f"WeChat {exc.code} {exc.message}")
            return await self._give_back(chat_id, window.used, self._failure(exc))
        except (WeChatHttpError, aiohttp.ClientError, TimeoutError) as exc:
            return await self._give_back(chat_id, window.used, _network_failure(exc))
        return Delivery(DeliveryStatus.SENT)

    async def _uploaded(self, reply: Reply) -> Reply:
        """A photo or recording from another platform: fetched there and uploaded now as WeChat
        temporary media (its media_id lives 3 days, so it is never kept)."""
        native = reply.media_from in ("", self.channel)
        if not reply.media or (native and reply.media not in self._expired):
            return reply
        if self.uploader is None:
            raise MediaError("no WeChat uploader", permanent=True)
        kind = MediaKind.PHOTO if reply.photo else MediaKind.VOICE
        source = self.channel if native else reply.media_from
        media_id = await self.uploader.upload(await self.media.fetch(source, reply.media), kind)
        if kind is MediaKind.PHOTO:
            return replace(reply, photo=media_id, media_from="")
        return replace(reply, voice=media_id, media_from="")

    async def _give_back(self, openid: str, used: state.Interaction, delivery: Delivery) -> Delivery:
        """WeChat refused the push or never got it: the slot is the follower's again. One whose
        outcome is unknown may have arrived (WeChat counted it), so it stays used; its resend
        takes a slot of its own, like any push."""
        if delivery.status is not DeliveryStatus.UNCERTAIN:
            async with self.db.transaction() as conn:
                await state.give_back_window_slot(conn, openid, used)
        return delivery

    async def _payloads(self, openid: str, reply: Reply) -> list[dict]:
        """The messages for one reply; options are remembered so a number or a tap finds them."""
        if reply.media:
            # The caption first (which ticket it belongs to), then the photo or recording.
            caption = [text_payload(openid, escape(reply.text))] if reply.text else []
            if reply.photo:
                return [*caption, image_payload(openid, media_id_of(reply.photo))]
            return [*caption, voice_payload(openid, reply.voice)]
        now = self.clock.now()
        options = [(o.label, o.data) for o in reply.options]
        async with self.db.transaction() as conn:
            await state.save_choices(conn, openid, options, now)
            if self.settings.msgmenu and options:
                ids = await state.add_menu_items(conn, openid, [data for _, data in options], now)
                text = escape(reply.text)
                return [msgmenu_payload(openid, text, [label for label, _ in options], ids)]
        return [text_payload(openid, piece) for piece in render_texts([reply], self.texts).pieces]

    async def _fallback(self, openid: str, reply: Reply, kind: str, ticket_id: int | None,
                        reason: str) -> Delivery:
        """Outside the window: a template message if one is configured for this kind, else a record."""
        template_id = self.settings.templates.get(kind, "")
        if not template_id or reply.media:
            return Delivery(DeliveryStatus.FAILED, error=f"undeliverable: {reason}; no template for {kind}")
        at = self.clock.now().astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M")
        try:
            await self.api.post(TEMPLATE_SEND, template_payload(openid, template_id, reply, ticket_id, at))
        except WeChatError as exc:
            return self._failure(exc, prefix="template: ")
        except (WeChatHttpError, aiohttp.ClientError, TimeoutError) as exc:
            return _network_failure(exc)
        return Delivery(DeliveryStatus.SENT, message_id="template")

    def _failure(self, exc: WeChatError, prefix: str = "") -> Delivery:
        error = f"{prefix}WeChat {exc.code} {exc.message}"
        if exc.code == SYSTEM_BUSY:
            return Delivery(DeliveryStatus.RETRY, error=error)
        if exc.code == DAILY_QUOTA:
            # Retrying before the quota resets only burns attempts.
            return Delivery(DeliveryStatus.RETRY, error=error,
                            retry_after=seconds_to_next_day(self.clock.now(), self.timezone))
        if exc.code in (40001, 40014, 42001):  # still rejected after one refresh: back off
            return Delivery(DeliveryStatus.RETRY, error=error)
        if exc.code in GONE:
            return Delivery(DeliveryStatus.FAILED, error=f"{error} (follower gone)")
        return Delivery(DeliveryStatus.FAILED, error=error)


def _network_failure(exc: BaseException) -> Delivery:
    """Not connected or an HTTP error: retry. A timeout or a dropped connection after the request
    went out may have delivered it: an unknown outcome, sent again as a resend. (No URL in the
    error: it carries the access token.)"""
    if isinstance(exc, WeChatHttpError):
        return Delivery(DeliveryStatus.RETRY, error=f"WeChat answered {exc}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Delivery(DeliveryStatus.RETRY, error=f"network: {type(exc).__name__}", unreached=True)
    return Delivery(DeliveryStatus.UNCERTAIN, error=f"network: {type(exc).__name__}")
