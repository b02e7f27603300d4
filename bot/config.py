"""Typed, validated configuration: one config.yaml per subdistrict."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG = "config.yaml"


class ConfigError(Exception):
    """A config problem, phrased as one line that names the key path."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class HttpSettings(Strict):
    """The bot's own HTTP server (Telegram webhook, later WeChat callbacks, /healthz)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class TelegramSettings(Strict):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = ""
    poll_timeout: int = Field(default=25, ge=0, le=50)
    read_timeout: float = Field(default=10.0, gt=0, le=120)
    mode: TelegramMode = TelegramMode.POLLING
    webhook_path: str = Field(default="/telegram/webhook", pattern=r"^/[A-Za-z0-9/_-]*$")
    webhook_public_url: str = ""

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramSettings:
        if self.mode is TelegramMode.WEBHOOK and not self.webhook_public_url.startswith("https://"):
            raise ValueError("webhook mode needs webhook_public_url (an https:// URL Telegram can reach)")
        return self


class WeChatSecurity(StrEnum):
    """The message encryption mode chosen on the WeChat platform (明文 / 兼容 / 安全)."""

    PLAIN = "plain"
    COMPATIBLE = "compatible"
    SAFE = "safe"


class WeChatSettings(Strict):
    """The official account (公众号). Token, AES key and app secret come from the environment."""

    app_id: str = Field(default="", pattern=r"^(wx[0-9a-f]{16})?$")
    api_base_url: str = "https://api.weixin.qq.com"
    callback_path: str = Field(default="/wechat/callback", pattern=r"^/[A-Za-z0-9/_-]*$")
    security: WeChatSecurity = WeChatSecurity.SAFE
    # msgmenu (clickable options) needs the account's customer-service permission.
    msgmenu: bool = False
    # Notification kind (card, resident_notice, staff_notice) -> template id, used when the
    # customer-service window is closed.
    templates: dict[str, str] = {}
    timeout: float = Field(default=5.0, gt=0, le=30)
    # WeChat waits 5 s for a passive reply; past this the answer is pushed instead.
    reply_deadline: float = Field(default=4.0, gt=0, lt=5)


class WeComRobot(Strict):
    """A 企业微信群机器人 posting into one neighbourhood group; its key is a secret."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str
    key_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")
    community: str | None = None
    grid: str | None = None


class WeComSettings(Strict):
    api_base_url: str = "https://qyapi.weixin.qq.com"
    per_minute: int = Field(default=20, ge=1, le=20)
    robots: list[WeComRobot] = []


class StorageSettings(Strict):
    database: str = "data/fengshan.db"


class Settings(Strict):
    """What the bot needs from outside the YAML: secrets come from the environment only."""

    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    wechat_token: str = ""
    wechat_aes_key: str = ""
    wechat_app_secret: str = ""
    wecom_robot_keys: dict[str, str] = {}


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

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        _check_cross_references(self)
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


def _check_cross_references(config: Config) -> None:
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


NOTICE_KINDS = ("card", "resident_notice", "staff_notice")


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


def _error_path(error: Mapping) -> str:
    return ".".join(
        f"[{part}]" if isinstance(part, int) else str(part) for part in error["loc"]
    ).replace(".[", "[")


def parse_config(data: object, source: str = DEFAULT_CONFIG) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = _error_path(first)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        where = f"{source}: {path}: " if path else f"{source}: "
        raise ConfigError(f"{where}{message}") from None


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
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    return parse_config(data, source)


WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def load_settings(environ: Mapping[str, str], config: Config) -> Settings:
    """Secrets from the environment, checked against what the config asks for."""
    settings = Settings(
        telegram_token=environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_webhook_secret=environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
        wechat_token=environ.get("WECHAT_TOKEN", "").strip(),
        wechat_aes_key=environ.get("WECHAT_ENCODING_AES_KEY", "").strip(),
        wechat_app_secret=environ.get("WECHAT_APP_SECRET", "").strip(),
        wecom_robot_keys={r.id: environ.get(r.key_env, "").strip() for r in config.wecom.robots
                          if environ.get(r.key_env, "").strip()},
    )
    _check_wechat(settings, config)
    if settings.telegram_token and config.telegram.mode is TelegramMode.WEBHOOK and not (
        WEBHOOK_SECRET_PATTERN.match(settings.telegram_webhook_secret)
    ):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: webhook mode needs 16-256 characters of A-Z a-z 0-9 _ -")
    return settings


WECHAT_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9]{3,32}$")
AES_KEY_PATTERN = re.compile(r"^[A-Za-z0-9]{43}$")


def wechat_enabled(settings: Settings, config: Config) -> bool:
    return bool(config.wechat.app_id and settings.wechat_token)


def _check_wechat(settings: Settings, config: Config) -> None:
    if not wechat_enabled(settings, config):
        return
    if not WECHAT_TOKEN_PATTERN.match(settings.wechat_token):
        raise ConfigError("WECHAT_TOKEN: 3-32 letters or digits, as set on the WeChat platform")
    if config.wechat.security is not WeChatSecurity.PLAIN and not AES_KEY_PATTERN.match(settings.wechat_aes_key):
        raise ConfigError("WECHAT_ENCODING_AES_KEY: compatible and safe modes need the 43-character key")
    if not settings.wechat_app_secret:
        raise ConfigError("WECHAT_APP_SECRET: needed for pushes (customer-service and template messages)")
