"""Checks across the whole config: unique ids, known references, one grid per building."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.domain.schedule_rules import RuleError, cron_trigger, parse_when

if TYPE_CHECKING:
    from bot.config import Config
    from handlers.domain.model import Person

NOTICE_KINDS = ("card", "resident_notice", "staff_notice", "announcement")


class _DuplicateCheck:
    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def add(self, value: str, path: str, what: str) -> None:
        if value in self.seen:
            raise ValueError(f"{path}: duplicate {what} {value!r} (first at {self.seen[value]})")
        self.seen[value] = path


def _people_with_paths(config: Config) -> list[tuple[Person, str]]:
    """Every person in the file with the key path where it is defined."""
    people: list[tuple[Person, str]] = []
    for i, community in enumerate(config.communities):
        people += [(p, f"communities[{i}].staff[{j}]") for j, p in enumerate(community.staff)]
    for i, grid in enumerate(config.grids):
        people += [(p, f"grids[{i}].leaders[{j}]") for j, p in enumerate(grid.leaders)]
        people.append((grid.guide, f"grids[{i}].guide"))
        people += [(p, f"grids[{i}].workers[{j}]") for j, p in enumerate(grid.workers)]
    people += [(p, f"admins[{j}]") for j, p in enumerate(config.admins)]
    people += [(p, f"responders[{j}]") for j, p in enumerate(config.responders)]
    return people


def check_cross_references(config: Config) -> None:
    communities = _DuplicateCheck()
    for i, community in enumerate(config.communities):
        communities.add(community.id, f"communities[{i}].id", "community id")
    grids = _DuplicateCheck()
    buildings = _DuplicateCheck()
    people = _DuplicateCheck()
    for i, grid in enumerate(config.grids):
        grids.add(grid.id, f"grids[{i}].id", "grid id")
        if grid.community not in communities.seen:
            raise ValueError(f"grids[{i}].community: unknown community {grid.community!r}")
        for j, compound in enumerate(grid.compounds):
            for k, building in enumerate(compound.buildings):
                path = f"grids[{i}].compounds[{j}].buildings[{k}]"
                try:
                    buildings.add(f"{compound.name}{building}", path, "building")
                except ValueError as exc:
                    raise ValueError(f"{exc}: a building belongs to exactly one grid") from None
    for person, path in _people_with_paths(config):
        people.add(person.id, f"{path}.id", "person id")
    for i, team in enumerate(config.volunteer_teams):
        if team.community and team.community not in communities.seen:
            raise ValueError(
                f"volunteer_teams[{i}].community: unknown community {team.community!r}"
            )
    categories = _DuplicateCheck()
    for i, category in enumerate(config.categories):
        categories.add(category.id, f"categories[{i}].id", "category id")
        for j, responder in enumerate(category.responders):
            path = f"categories[{i}].responders[{j}]"
            if responder.person not in people.seen:
                raise ValueError(f"{path}.person: unknown person {responder.person!r}")
            if responder.community and responder.community not in communities.seen:
                raise ValueError(f"{path}.community: unknown community {responder.community!r}")
    keys = _DuplicateCheck()
    for i, menu in enumerate(config.menus):
        keys.add(menu.key, f"menus[{i}].key", "menu key")
        for j, item in enumerate(menu.items):
            keys.add(item.key, f"menus[{i}].items[{j}].key", "menu item key")
    _check_robots(config, communities, grids)
    _check_announcements(config, communities, grids)


def _check_robots(config: Config, communities: _DuplicateCheck, grids: _DuplicateCheck) -> None:
    robots = _DuplicateCheck()
    for i, robot in enumerate(config.wecom.robots):
        path = f"wecom.robots[{i}]"
        robots.add(robot.id, f"{path}.id", "robot id")
        if robot.community and robot.community not in communities.seen:
            raise ValueError(f"{path}.community: unknown community {robot.community!r}")
        if robot.grid and robot.grid not in grids.seen:
            raise ValueError(f"{path}.grid: unknown grid {robot.grid!r}")
    for kind in config.wechat.templates:
        if kind not in NOTICE_KINDS:
            raise ValueError(f"wechat.templates.{kind}: unknown notification kind; use one of {NOTICE_KINDS}")


def _check_announcements(config: Config, communities: _DuplicateCheck, grids: _DuplicateCheck) -> None:
    keys = _DuplicateCheck()
    for i, item in enumerate(config.announcements):
        path = f"announcements[{i}]"
        keys.add(item.key, f"{path}.key", "announcement key")
        if item.target != "all" and item.target not in communities.seen and item.target not in grids.seen:
            raise ValueError(f"{path}.target: {item.target!r} is not all, a community id or a grid id")
        try:
            when = parse_when(item.when, datetime.now(UTC), config.subdistrict.timezone)
        except RuleError as exc:
            raise ValueError(f"{path}.when: {exc}") from None
        if not when.repeating:
            raise ValueError(f"{path}.when: use a repeating rule (每周六 08:00, 每月1日 09:00, or cron)")
    if not _is_cron(config.scheduler.digest, config.subdistrict.timezone):
        raise ValueError(f"scheduler.digest: {config.scheduler.digest!r} is not a cron rule")


def _is_cron(rule: str, timezone: str) -> bool:
    try:
        cron_trigger(rule, timezone)
    except RuleError:
        return False
    return True
