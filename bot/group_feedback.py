"""What deliveries teach about groups: a new supergroup id is followed, a lost group disabled."""

from __future__ import annotations

import logging

from bot.engine import Engine
from handlers.broadcast import admin_notices
from handlers.context import Services
from handlers.rendering import display_name
from handlers.types import Channel
from storage import groups
from storage.engine import Connection
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)


def is_group_chat(row: OutboxRow) -> bool:
    """Telegram groups have negative ids; every WeCom robot posts to a group."""
    return row.channel == Channel.WECOM or (row.channel == Channel.TELEGRAM and row.chat_id.startswith("-"))


class GroupFeedback:
    def __init__(self, services: Services, engine: Engine) -> None:
        self.services = services
        self.engine = engine

    async def moved(self, conn: Connection, row: OutboxRow, new_chat_id: str) -> None:
        now = self.engine.clock.now()
        target = await groups.get_target(conn, row.channel, row.chat_id)
        await groups.move_group(conn, row.channel, row.chat_id, new_chat_id, now)
        if target is not None:
            log.info("group %s moved to %s; target %d follows", row.chat_id, new_chat_id, target.id)
            notes = await admin_notices(conn, self.services.texts.t("group_moved", title=display_name(target.title) or new_chat_id))
            await self.engine.write_notifications(conn, notes, now)

    async def gone(self, conn: Connection, row: OutboxRow, reason: str) -> None:
        if not is_group_chat(row):
            return  # a resident who blocked the bot: the row's error says so
        now = self.engine.clock.now()
        target = await groups.get_target(conn, row.channel, row.chat_id)
        if target is None or not await groups.disable_group(conn, row.channel, row.chat_id, reason, now):
            return
        log.warning("group target %d (%s) disabled: %s", target.id, row.channel, reason)
        notes = await admin_notices(conn, self.services.texts.t(
            "group_disabled", title=display_name(target.title) or row.chat_id, chat=row.chat_id, reason=reason))
        await self.engine.write_notifications(conn, notes, now)
