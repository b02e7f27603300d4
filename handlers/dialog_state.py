"""Opening and closing dialogs without losing a half-finished report.

A resident can have one dialog at a time. When a short side flow (联系网格, 补充信息, a
staff 办结 …) starts in the middle of a report, the report draft rides along inside the side
flow's data and comes back when the side flow ends, however it ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from handlers.context import Context
from handlers.flow_states import STATES, Flow, FlowState, ReportState
from storage.dialogs import Dialog, clear_dialog, load_dialog, save_dialog

log = logging.getLogger(__name__)

REPORT_FLOW = Flow.REPORT
SUSPENDED = "_suspended"  # the key of the carried report draft in a side flow's stored data


@dataclass(frozen=True)
class Draft:
    """A report draft carried by a side flow: its step and what it had collected."""

    step: str
    state: ReportState

    def to_dict(self) -> dict:
        return {"flow": REPORT_FLOW.value, "step": self.step, "data": self.state.to_dict()}


@dataclass(frozen=True)
class OpenDialog:
    flow: Flow
    step: str
    state: FlowState
    draft: Draft | None = None

    def to_row(self) -> Dialog:
        data = self.state.to_dict()
        return Dialog(self.flow.value, self.step, {**data, SUSPENDED: self.draft.to_dict()} if self.draft else data)


def from_row(row: Dialog) -> OpenDialog | None:
    """The typed dialog, or None for a row this version cannot read (logged: flow name only)."""
    try:
        flow = Flow(row.flow)
        state = STATES[flow].from_dict(row.data)
        carried = row.data.get(SUSPENDED)
        draft = None
        if carried:
            draft = Draft(str(carried["step"]), ReportState.from_dict(carried["data"]))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        log.warning("ignored an unreadable %r dialog (%s)", row.flow[:20], type(exc).__name__)
        return None
    return OpenDialog(flow, row.step, state, draft)


async def load(ctx: Context) -> OpenDialog | None:
    ahead, ctx.dialog_ahead = ctx.dialog_ahead, None  # read ahead before any write: good for one load
    row = ahead[0] if ahead is not None else await load_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id)
    return from_row(row) if row is not None else None


async def save(ctx: Context, dialog: OpenDialog) -> None:
    ctx.dialog_ahead = None  # (the router loads first, so this only guards a path that would not)
    await save_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id, dialog.to_row(), ctx.now)


async def begin_side_flow(ctx: Context, flow: Flow, step: str, state: FlowState) -> None:
    current = await load(ctx)
    draft = None
    if current is not None:
        if isinstance(current.state, ReportState):
            draft = Draft(current.step, current.state)
        else:
            draft = current.draft
    await save(ctx, OpenDialog(flow, step, state, draft))


async def end_dialog(ctx: Context) -> None:
    """Close the current dialog; a report draft it carried becomes the current dialog again."""
    current = await load(ctx)
    if current is None or current.draft is None:
        await clear_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id)
        return
    await save(ctx, OpenDialog(REPORT_FLOW, current.draft.step, current.draft.state))
    ctx.say(ctx.t("draft_kept"))
