"""One ticket's life as the bot would have logged it, for the storage-scale fixture.

Used by bench/storage_fixture.py (run through `python -m bench.storage_scale`). The events
and their data follow the handlers that write them (report.submit / dispatch_ticket,
cards.send_card, ticket_actions, my_tickets.cancel_ticket, escalation): created, routed,
notified, acknowledged, resolved, rated, closed, reopened, cancelled, info_added, warned,
escalated, overdue. Nothing after `now` is kept; the ticket row is the state at `now`.
"""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.config import Config
from handlers.domain.model import Category
from handlers.domain.working_time import due_after

WARN_AT = 0.8  # handlers/escalation.py
TOP = 3  # Level.SUBDISTRICT
RATINGS = (("satisfied", 0.78), ("mostly_satisfied", 0.16), ("unsatisfied", 0.06))
NOTES = ("已上门处理完毕", "已联系物业修复", "已协调双方达成一致", "已清运完毕", "已电话答复居民")
INFOS = ("补充一下：晚上更明显", "楼上邻居也反映了", "今天又出现了", "位置在单元门口左侧")


def stamp_of(seconds: float) -> str:
    """storage.clock.stamp of an epoch time."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds")


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)  # as storage.tickets.add_event writes it


class Stop(Exception):
    """The next event would be after `now`."""


@dataclass
class Life:
    """The ticket's state while its events are appended in time order."""

    now: float
    status: str = "new"
    level: int = 0
    ack_due: float = 0.0
    resolve_due: float = 0.0
    rating: str | None = None
    result_note: str = ""
    updated: float = 0.0
    events: list[tuple] = field(default_factory=list)  # (at, actor_kind, actor_id, action, note, data)

    def emit(self, at: float, kind: str, actor: str, action: str, note: str = "", data: str = "{}",
             **state: object) -> None:
        if at > self.now:
            raise Stop
        self.events.append((at, kind, actor, action, note, data))
        self.updated = at
        for name, value in state.items():
            setattr(self, name, value)


class Model:
    """Random but plausible lifecycles over one config's grids, people and categories."""

    def __init__(self, config: Config, rng: random.Random) -> None:
        self.config, self.rng = config, rng
        self.categories = config.categories
        self.weights = [{"repair": 30, "sanitation": 22, "dispute": 10, "gas": 8, "elevator": 2,
                         "policy": 8, "opinion": 8, "other": 12}.get(c.id, 5) for c in config.categories]
        admins = [p.id for p in config.admins]
        staff = {c.id: [p.id for p in c.staff] for c in config.communities}
        self.levels = {g.id: ([p.id for p in g.leaders], [g.guide.id], staff[g.community], admins)
                       for g in config.grids}

    def category(self) -> Category:
        return self.rng.choices(self.categories, self.weights)[0]

    def due(self, category: Category, start: float, hours: float) -> float:
        if not category.working_hours:
            return start + hours * 3600
        moment = due_after(self.config, category, datetime.fromtimestamp(start, UTC), hours)
        return moment.timestamp()

    def live(self, created: float, category: Category, grid: str, resident: int, now: float) -> Life:
        life = Life(now=now)
        with contextlib.suppress(Stop):
            self._run(life, created, category, grid, str(resident))
        return life

    def _notified(self, life: Life, at: float, grid: str, level: int) -> None:
        people = self.levels[grid][level]
        life.emit(at, "system", "router", "notified",
                  data=dumps({"grid": grid, "level": level, "people": people, "recipients": len(people)}))

    def _run(self, life: Life, c: float, cat: Category, grid: str, resident: str) -> None:
        rng = self.rng
        ack_due, resolve_due = self.due(cat, c, cat.ack_hours), self.due(cat, c, cat.resolve_hours)
        life.emit(c, "resident", resident, "created", ack_due=ack_due, resolve_due=resolve_due,
                  data=dumps({"ack_due_at": stamp_of(ack_due), "resolve_due_at": stamp_of(resolve_due)}))
        people = self.levels[grid][0]
        life.emit(c, "system", "router", "routed", status="routed",
                  data=dumps({"grid": grid, "level": 0, "people": people}))
        self._notified(life, c, grid, 0)
        if rng.random() < 0.08:
            life.emit(c + rng.uniform(60, 7200), "resident", resident, "info_added", note=rng.choice(INFOS))
        if rng.random() < 0.02:  # withdrawn before anyone acknowledged it
            life.emit(c + rng.uniform(0.05, 0.9) * cat.ack_hours * 3600, "resident", resident, "cancelled",
                      status="cancelled")
            return
        window = c
        for cycle in range(2):
            window = self._answer(life, window, cat, grid, resident, reopened=cycle > 0)
            if window < 0:
                return

    def _answer(self, life: Life, window: float, cat: Category, grid: str, resident: str,
                reopened: bool) -> float:
        """受理, 办结 and rating of one window; the start of the next (reopened) window, or -1."""
        rng = self.rng
        never_ack = rng.random() < 0.01
        ack_at = window + rng.expovariate(1 / (0.35 * cat.ack_hours * 3600))
        if never_ack:  # 办结 straight away later on (80 %), or nobody ever answers (20 %)
            ack_at = window + rng.uniform(3, 20) * cat.ack_hours * 3600 if rng.random() < 0.8 else float("inf")
        window = self._deadline(life, "ack", window, ack_at, cat, grid)
        if ack_at == float("inf"):
            return -1
        done_at = ack_at
        if not never_ack:  # the 办结 deadline is watched only once acknowledged
            actor = self.levels[grid][min(life.level, TOP)][0]
            life.emit(ack_at, "person", actor, "acknowledged", status="acknowledged")
            stuck = rng.random() < 0.002
            done_at = float("inf") if stuck else ack_at + rng.expovariate(1 / (0.3 * cat.resolve_hours * 3600))
            self._deadline(life, "resolve", window, done_at, cat, grid)
            if stuck:
                return -1
        actor = self.levels[grid][min(life.level, TOP)][0]
        note = rng.choice(NOTES)
        life.emit(done_at, "person", actor, "resolved", note=note, data='{"photos": 0}',
                  status="resolved", result_note=note)
        if rng.random() > 0.75:
            return -1
        rated_at = done_at + rng.expovariate(1 / (12 * 3600))
        rating = "satisfied" if reopened else rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
        life.emit(rated_at, "resident", resident, "rated", data=dumps({"rating": rating}))
        if rating != "unsatisfied":
            life.emit(rated_at, "system", "rating", "closed", status="closed", rating=rating)
            return -1
        level = min(max(life.level + 1, 1), TOP)
        ack_due, resolve_due = self.due(cat, rated_at, cat.ack_hours), self.due(cat, rated_at, cat.resolve_hours)
        people = self.levels[grid][level]
        life.emit(rated_at, "system", "rating", "reopened", status="reopened", rating=rating, level=level,
                  ack_due=ack_due, resolve_due=resolve_due,
                  data=dumps({"level": level, "people": people, "ack_due_at": stamp_of(ack_due),
                              "resolve_due_at": stamp_of(resolve_due)}))
        self._notified(life, rated_at, grid, level)
        return rated_at

    def _deadline(self, life: Life, deadline: str, window: float, met_at: float, cat: Category,
                  grid: str) -> float:
        """预警 / 吹哨 / overdue as the sweep logs them while `met_at` has not come; the window start."""
        hours = cat.ack_hours if deadline == "ack" else cat.resolve_hours
        while True:
            due = life.ack_due if deadline == "ack" else life.resolve_due
            warn = min(self.due(cat, window, hours * WARN_AT), due) + 30
            if met_at <= warn:
                return window
            people = self.levels[grid][life.level]
            life.emit(warn, "system", "deadline", "warned", data=dumps(
                {"deadline": deadline, "level": life.level, "due": stamp_of(due), "recipients": len(people)}))
            if met_at <= due + 30:
                return window
            if life.level >= TOP:
                life.emit(due + 30, "system", "deadline", "overdue", data=dumps(
                    {"deadline": deadline, "level": TOP, "due": stamp_of(due), "recipients": len(people)}))
                return window
            window = due + 30
            level = life.level + 1
            fresh = {"resolve_due": self.due(cat, window, cat.resolve_hours)}
            if deadline == "ack":
                fresh["ack_due"] = self.due(cat, window, cat.ack_hours)
            data = {"deadline": deadline, "from": life.level, "to": level, "people": self.levels[grid][level],
                    "missed": stamp_of(due)} | {f"{k}_at": stamp_of(v) for k, v in fresh.items()}
            life.emit(window, "system", "deadline", "escalated", data=dumps(data), level=level, **fresh)
            self._notified(life, window, grid, level)
