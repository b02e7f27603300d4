"""Issue 13: what each kind of ticket event shows in the resident's history (我的工单) and in the
history staff read on a reopened card — one table per audience, a test per kind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.bootstrap import build_services
from bot.config import Config
from handlers.context import Context
from handlers.escalation import system_context
from handlers.timeline import RESIDENT_VIEW, STAFF_VIEW, resident_history, staff_history
from storage.tickets import EventAction, TicketEvent

AT = datetime(2026, 11, 26, 2, tzinfo=UTC)  # 10:00 in Asia/Shanghai
STAFF_NOTE = "王女士13812345678说是9栋的"  # a 转派 reason: for staff
RESOLUTION = "已更换灯泡"
ADDED = "晚上十点以后又灭了"
WHY = "灯还是不亮"

A = EventAction
EVENTS: dict[EventAction, tuple[str, dict]] = {  # the note and data each kind is written with
    A.CREATED: ("", {"ack_due_at": "x", "resolve_due_at": "y"}),
    A.ROUTED: ("", {"grid": "G01", "level": 0, "people": ["g01-leader"]}),
    A.NOTIFIED: ("", {"grid": "G01", "level": 0, "people": ["g01-leader"], "recipients": 1}),
    A.UNREACHABLE: ("", {"grid": "G01", "level": 0, "people": [], "recipients": 0}),
    A.ACKNOWLEDGED: ("", {}),
    A.RESOLVED: (RESOLUTION, {"photos": 0}),
    A.REASSIGNED: (STAFF_NOTE, {"from": "G01", "to": "G02"}),
    A.RATED: (WHY, {"rating": "unsatisfied"}),
    A.REOPENED: ("", {"level": 1, "people": ["g01-guide"]}),
    A.CLOSED: ("", {}),
    A.CANCELLED: ("", {}),
    A.INFO_ADDED: (ADDED, {}),
    A.PHOTO_ADDED: ("", {}),
    A.VOICE_ADDED: ("", {}),
    A.FOLLOWER_ADDED: ("", {}),
    A.REFUSED: ("", {}),
    A.WARNED: ("", {"deadline": "ack", "level": 0, "due": "x", "recipients": 1}),
    A.ESCALATED: ("", {"deadline": "ack", "from": 0, "to": 1, "people": ["g01-guide"]}),
    A.OVERDUE: ("", {"deadline": "ack", "level": 3, "due": "x", "recipients": 1}),
}
# What the resident reads for each kind (None: not shown to her).
RESIDENT_LINES: dict[EventAction, str | None] = {
    A.CREATED: "提交",
    A.ROUTED: "转交网格",
    A.NOTIFIED: None,  # one per card: 「已通知」 ×3
    A.UNREACHABLE: None,
    A.ACKNOWLEDGED: "已受理",  # no staff name
    A.RESOLVED: f"已办结：{RESOLUTION}",
    A.REASSIGNED: "转派：龙池花园第二网格",  # the grid she is told of, never the reason
    A.RATED: f"评价：不满意（原因：{WHY}）",
    A.REOPENED: "重新办理",
    A.CLOSED: "完成",
    A.CANCELLED: "撤销",
    A.INFO_ADDED: f"补充信息：{ADDED}",
    A.PHOTO_ADDED: "补充照片",
    A.VOICE_ADDED: "补充语音",
    A.FOLLOWER_ADDED: "其他居民也遇到",
    A.REFUSED: None,
    A.WARNED: None,
    A.ESCALATED: "超时上报",
    A.OVERDUE: None,
}
STAFF_LINES: dict[EventAction, str | None] = {
    **RESIDENT_LINES,
    A.ROUTED: None,
    A.UNREACHABLE: "暂时联系不上负责人，已上报",
    A.REASSIGNED: "转派：龙池花园第二网格（原因：王女士138****5678说是9栋的）",  # numbers masked
}


@pytest.fixture(scope="module")
def ctx(sample_config: Config) -> Context:
    return system_context(build_services(sample_config), None, AT)  # type: ignore[arg-type]  # no database read


def event(action: EventAction, note: str | None = None, data: dict | None = None) -> TicketEvent:
    default_note, default_data = EVENTS[action]
    return TicketEvent(1, 1, AT, "person", "g01-leader", action.value,
                       default_note if note is None else note, default_data if data is None else data)


def test_every_kind_is_decided_for_both_audiences() -> None:
    assert set(RESIDENT_VIEW) == set(EventAction) == set(STAFF_VIEW) == set(EVENTS)


@pytest.mark.parametrize("action", list(EventAction), ids=[a.value for a in EventAction])
def test_what_the_resident_reads(ctx: Context, action: EventAction) -> None:
    expected = RESIDENT_LINES[action]
    assert resident_history(ctx, [event(action)]) == ("" if expected is None else f"11-26 10:00 {expected}")


@pytest.mark.parametrize("action", list(EventAction), ids=[a.value for a in EventAction])
def test_what_staff_read(ctx: Context, action: EventAction) -> None:
    expected = STAFF_LINES[action]
    assert staff_history(ctx, [event(action)]) == ("" if expected is None else f"11-26 10:00 {expected}")


@pytest.mark.parametrize(("rating", "shown"), [("satisfied", "满意"), ("mostly_satisfied", "基本满意"),
                                                ("unsatisfied", "不满意")])
def test_the_resident_sees_which_rating_she_gave(ctx: Context, rating: str, shown: str) -> None:
    assert resident_history(ctx, [event(A.RATED, "", {"rating": rating})]) == f"11-26 10:00 评价：{shown}"


def test_a_note_cannot_pose_as_a_history_line(ctx: Context) -> None:
    text = resident_history(ctx, [event(A.INFO_ADDED, "楼道黑\n11-26 10:00 已办结\u202e"), event(A.CLOSED)])
    assert text.split("\n") == ["11-26 10:00 补充信息：楼道黑", "  ｜11-26 10:00 已办结", "11-26 10:00 完成"]


def test_an_unknown_kind_is_not_shown(ctx: Context) -> None:
    unknown = TicketEvent(1, 1, AT, "system", "x", "from_a_later_version", "内部", {})
    assert resident_history(ctx, [unknown, event(A.CLOSED)]) == "11-26 10:00 完成"
