"""Typed, validated configuration: one config.yaml per subdistrict."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from bot.config_base import ConfigError, Strict
from bot.config_channels import (
    HttpSettings,
    PrivacySettings,
    StorageSettings,
    TelegramSettings,
    WeChatSettings,
    WeComSettings,
)
from bot.config_checks import check_cross_references
from bot.config_errors import tab_indented_line, validation_problems
from bot.config_schedule import ConfiguredAnnouncement, SchedulerSettings, WorkingTime

DEFAULT_CONFIG = "config.yaml"


class Role(StrEnum):
    LEADER = "leader"
    GUIDE = "guide"
    WORKER = "worker"
    STAFF = "staff"
    ADMIN = "admin"
    RESPONDER = "responder"


class Person(Strict):
    id: str
    name: str
    phone: str = ""
    telegram_id: int | None = None
    wechat_openid: str | None = None


class Compound(Strict):
    name: str
    buildings: list[str] = Field(min_length=1)
    aliases: list[str] = []


class Grid(Strict):
    id: str
    name: str
    community: str
    compounds: list[Compound] = Field(min_length=1)
    leaders: list[Person] = Field(min_length=1)
    guide: Person
    workers: list[Person] = []


class Place(Strict):
    name: str
    address: str
    hours: str = ""
    phone: str = ""
    note: str = ""


class Community(Strict):
    id: str
    name: str
    center: Place
    staff: list[Person] = []


class CategoryResponder(Strict):
    person: str
    community: str | None = None


class Category(Strict):
    id: str
    name: str
    ack_hours: float = Field(gt=0)
    resolve_hours: float = Field(gt=0)
    # Count this category's deadlines in working time (see working_time), not around the clock.
    working_hours: bool = False
    responders: list[CategoryResponder] = []

    @model_validator(mode="after")
    def _ack_before_resolve(self) -> Category:
        if self.resolve_hours < self.ack_hours:
            raise ValueError("resolve_hours must not be shorter than ack_hours")
        return self


class MenuItemKind(StrEnum):
    CONTENT = "content"
    ACTION = "action"
    LINK = "link"


class MenuAction(StrEnum):
    REPORT = "report"
    MY_TICKETS = "my_tickets"
    CONTACT_GRID = "contact_grid"
    SERVICE_POINTS = "service_points"
    RED_POSTS = "red_posts"
    VOLUNTEER_TEAMS = "volunteer_teams"
    CARE_POINTS = "care_points"


class MenuItem(Strict):
    key: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=16)
    kind: MenuItemKind
    text: str = ""
    action: MenuAction | None = None
    url: str = ""

    @model_validator(mode="after")
    def _kind_fields(self) -> MenuItem:
        if self.kind is MenuItemKind.CONTENT and not self.text:
            raise ValueError("a content item needs text")
        if self.kind is MenuItemKind.ACTION and self.action is None:
            raise ValueError("an action item needs action")
        if self.kind is MenuItemKind.LINK and not self.url.startswith("https://"):
            raise ValueError("a link item needs an https:// url")
        return self


class Menu(Strict):
    key: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=8)
    items: list[MenuItem] = Field(min_length=1, max_length=5)


class VolunteerTeam(Strict):
    name: str
    community: str | None = None
    focus: str = ""


class Subdistrict(Strict):
    name: str
    timezone: str = "Asia/Shanghai"
    city: str = ""
    district: str = ""
    center: Place

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


class Config(Strict):
    subdistrict: Subdistrict
    communities: list[Community] = Field(min_length=1)
    grids: list[Grid] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    admins: list[Person] = Field(min_length=1)
    responders: list[Person] = []
    service_points: list[Place] = []
    red_posts: list[Place] = []
    care_points: list[Place] = []
    volunteer_teams: list[VolunteerTeam] = []
    menus: list[Menu] = Field(min_length=3, max_length=3)
    telegram: TelegramSettings = TelegramSettings()
    wechat: WeChatSettings = WeChatSettings()
    wecom: WeComSettings = WeComSettings()
    http: HttpSettings = HttpSettings()
    storage: StorageSettings = StorageSettings()
    privacy: PrivacySettings = PrivacySettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    announcements: list[ConfiguredAnnouncement] = []
    working_time: WorkingTime = WorkingTime()

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        check_cross_references(self)
        return self

    def all_people(self) -> list[tuple[Person, Role, str | None, str | None]]:
        """Every person with role, grid id and community id."""
        people: list[tuple[Person, Role, str | None, str | None]] = []
        for community in self.communities:
            people += [(p, Role.STAFF, None, community.id) for p in community.staff]
        for grid in self.grids:
            people += [(p, Role.LEADER, grid.id, grid.community) for p in grid.leaders]
            people.append((grid.guide, Role.GUIDE, grid.id, grid.community))
            people += [(p, Role.WORKER, grid.id, grid.community) for p in grid.workers]
        people += [(p, Role.ADMIN, None, None) for p in self.admins]
        people += [(p, Role.RESPONDER, None, None) for p in self.responders]
        return people

    def grid(self, grid_id: str) -> Grid | None:
        return next((g for g in self.grids if g.id == grid_id), None)

    def community(self, community_id: str) -> Community | None:
        return next((c for c in self.communities if c.id == community_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


def parse_config(data: object, source: str = DEFAULT_CONFIG) -> Config:
    """The validated config, or a ConfigError listing every problem pydantic and the
    whole-config checks found (the latter run once every field is valid)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(*validation_problems(exc, data, source)) from None


class _DuplicateKey(Exception):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, except that a key repeated in one mapping is an error instead of last-wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                mark = key_node.start_mark
                raise _DuplicateKey(f"line {mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; every problem becomes one ConfigError line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        tab_line = tab_indented_line(text, mark.line if mark else None)
        if tab_line is not None:
            # PyYAML's own words ("found character '\t' that cannot start any token") do not say
            # what to do; a tab copied from a word processor is the usual cause.
            raise ConfigError(f"{source}: not valid YAML at line {tab_line}: "
                              "YAML 不允许用 Tab 缩进，请改用空格 (YAML indentation must be spaces, not tabs)"
                              ) from None
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    return parse_config(data, source)
