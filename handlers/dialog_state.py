"""Opening and closing dialogs without losing a half-finished report.

A resident can have one dialog at a time. When a short side flow (联系网格, 补充信息, a
staff 办结 …) starts in the middle of a report, the report draft rides along inside the side
flow's data and comes back when the side flow ends, however it ends.
"""

from __future__ import annotations

from dataclasses import asdict

from handlers.context import Context
from storage.dialogs import Dialog, clear_dialog, load_dialog, save_dialog

REPORT_FLOW = "report"
SUSPENDED = "_suspended"


async def begin_side_flow(ctx: Context, dialog: Dialog) -> None:
    channel, user = ctx.incoming.channel, ctx.incoming.user_id
    current = await load_dialog(ctx.conn, channel, user)
    draft = None
    if current is not None:
        draft = asdict(current) if current.flow == REPORT_FLOW else current.data.get(SUSPENDED)
    data = {**dialog.data, SUSPENDED: draft} if draft else dict(dialog.data)
    await save_dialog(ctx.conn, channel, user, Dialog(dialog.flow, dialog.step, data), ctx.now)


async def end_dialog(ctx: Context) -> None:
    """Close the current dialog; a report draft it carried becomes the current dialog again."""
    channel, user = ctx.incoming.channel, ctx.incoming.user_id
    current = await load_dialog(ctx.conn, channel, user)
    draft = current.data.get(SUSPENDED) if current is not None else None
    if not draft:
        await clear_dialog(ctx.conn, channel, user)
        return
    await save_dialog(ctx.conn, channel, user, Dialog(draft["flow"], draft["step"], draft["data"]), ctx.now)
    ctx.say(ctx.t("draft_kept"))
