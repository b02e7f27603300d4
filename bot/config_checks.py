"""Checks across the whole config: unique ids, known references, one grid per building.

Every problem is collected, so the person editing the file sees them all in one run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.config_base import ConfigProblems, grid_labels
from bot.config_boundaries import check_boundaries
from bot.config_places import check_public_places
from handlers.domain.building_names import building_key, compound_key
from handlers.domain.schedule_rules import RuleError, cron_trigger, parse_when

if TYPE_CHECKING:
    from bot.config import Config
    from handlers.domain.model import Person

NOTICE_KINDS = ("card", "resident_notice", "staff_notice", "announcement")


class _DuplicateCheck:
    def __init__(self, problems: list[str]) -> None:
        self.seen: dict[str, str] = {}
        self.problems = problems

    def add(self, value: str, path: str, what: str) -> None:
        if value in self.seen:
            self.problems.append(f"{path}: duplicate {what} {value!r} (first at {self.seen[value]})")
        else:
            self.seen[value] = path


def _people_with_paths(config: Config, grids: list[str]) -> list[tuple[Person, str]]:
    """Every person in the file with the key path where it is defined."""
    people: list[tuple[Person, str]] = []
    for i, community in enumerate(config.communities):
        people += [(p, f"communities[{i}].staff[{j}]") for j, p in enumerate(community.staff)]
    for label, grid in zip(grids, config.grids, strict=True):
        people += [(p, f"grids[{label}].leaders[{j}]") for j, p in enumerate(grid.leaders)]
        people.append((grid.guide, f"grids[{label}].guide"))
        people += [(p, f"grids[{label}].workers[{j}]") for j, p in enumerate(grid.workers)]
    people += [(p, f"admins[{j}]") for j, p in enumerate(config.admins)]
    people += [(p, f"responders[{j}]") for j, p in enumerate(config.responders)]
    return people


def check_cross_references(config: Config) -> None:
    problems: list[str] = []
    communities = _DuplicateCheck(problems)
    for i, community in enumerate(config.communities):
        communities.add(community.id, f"communities[{i}].id", "community id")
    labels = grid_labels([grid.id for grid in config.grids])
    grids = _DuplicateCheck(problems)
    people = _DuplicateCheck(problems)
    for label, grid in zip(labels, config.grids, strict=True):
        grids.add(grid.id, f"grids[{label}].id", "grid id")
        if grid.community not in communities.seen:
            problems.append(f"grids[{label}].community: unknown community {grid.community!r}")
    _check_buildings(config, labels, problems)
    check_public_places(config, labels, problems)
    check_boundaries(config, labels, problems)
    for person, path in _people_with_paths(config, labels):
        people.add(person.id, f"{path}.id", "person id")
    for i, team in enumerate(config.volunteer_teams):
        if team.community and team.community not in communities.seen:
            problems.append(f"volunteer_teams[{i}].community: unknown community {team.community!r}")
    categories = _DuplicateCheck(problems)
    for i, category in enumerate(config.categories):
        categories.add(category.id, f"categories[{i}].id", "category id")
        for j, responder in enumerate(category.responders):
            path = f"categories[{i}].responders[{j}]"
            if responder.person not in people.seen:
                problems.append(f"{path}.person: unknown person {responder.person!r}")
            if responder.community and responder.community not in communities.seen:
                problems.append(f"{path}.community: unknown community {responder.community!r}")
    keys = _DuplicateCheck(problems)
    for i, menu in enumerate(config.menus):
        keys.add(menu.key, f"menus[{i}].key", "menu key")
        for j, item in enumerate(menu.items):
            keys.add(item.key, f"menus[{i}].items[{j}].key", "menu item key")
    _check_robots(config, communities, grids, problems)
    _check_announcements(config, communities, grids, problems)
    if problems:
        raise ConfigProblems(problems)


def _check_buildings(config: Config, labels: list[str], problems: list[str]) -> None:
    """A building belongs to exactly one grid, however it is written (「5号楼」 is 「5栋」)."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}  # (compound, building key) -> (path, as written)
    for label, grid in zip(labels, config.grids, strict=True):
        for j, compound in enumerate(grid.compounds):
            for k, building in enumerate(compound.buildings):
                path = f"grids[{label}].compounds[{j}].buildings[{k}]"
                key = (compound_key(compound.name), building_key(building))
                if key not in seen:
                    seen[key] = (path, building)
                    continue
                first, written = seen[key]
                same = "" if written == building else f" as {written!r}"
                problems.append(f"{path}: duplicate building {compound.name + building!r} (first at {first}"
                                f"{same}): a building belongs to exactly one grid")


def _check_robots(config: Config, communities: _DuplicateCheck, grids: _DuplicateCheck,
                  problems: list[str]) -> None:
    robots = _DuplicateCheck(problems)
    for i, robot in enumerate(config.wecom.robots):
        path = f"wecom.robots[{i}]"
        robots.add(robot.id, f"{path}.id", "robot id")
        if robot.community and robot.community not in communities.seen:
            problems.append(f"{path}.community: unknown community {robot.community!r}")
        if robot.grid and robot.grid not in grids.seen:
            problems.append(f"{path}.grid: unknown grid {robot.grid!r}")
    for kind in config.wechat.templates:
        if kind not in NOTICE_KINDS:
            problems.append(f"wechat.templates.{kind}: unknown notification kind; use one of {NOTICE_KINDS}")


def _check_announcements(config: Config, communities: _DuplicateCheck, grids: _DuplicateCheck,
                         problems: list[str]) -> None:
    keys = _DuplicateCheck(problems)
    for i, item in enumerate(config.announcements):
        path = f"announcements[{i}]"
        keys.add(item.key, f"{path}.key", "announcement key")
        if item.target != "all" and item.target not in communities.seen and item.target not in grids.seen:
            problems.append(f"{path}.target: {item.target!r} is not all, a community id or a grid id")
        try:
            when = parse_when(item.when, datetime.now(UTC), config.subdistrict.timezone)
        except RuleError as exc:
            problems.append(f"{path}.when: {exc}")
            continue
        if not when.repeating:
            problems.append(f"{path}.when: use a repeating rule (每周六 08:00, 每月1日 09:00, or cron)")
    if not _is_cron(config.scheduler.digest, config.subdistrict.timezone):
        problems.append(f"scheduler.digest: {config.scheduler.digest!r} is not a cron rule")


def _is_cron(rule: str, timezone: str) -> bool:
    try:
        cron_trigger(rule, timezone)
    except RuleError:
        return False
    return True
