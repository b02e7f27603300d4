"""The subdistrict model: communities, grids, people, roles, categories, menus, places.

bot.config reads and validates config.yaml into it; flows receive it (Services.config) without
any platform section (tokens, Telegram, WeChat, HTTP)."""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from handlers.domain.base import Strict
from handlers.domain.boundary import Boundary
from handlers.domain.schedule_settings import (
    ConfiguredAnnouncement,
    PrivacySettings,
    SchedulerSettings,
    WorkingTime,
)


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


class PublicPlace(Strict):
    """A road, a crossing, a park or a market: not a building, but in a grid all the same.
    Written as a name, or {name, lat, lon} so a location the resident sends can find it."""

    name: str = Field(min_length=1, max_length=40)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _both_coordinates(self) -> PublicPlace:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class Grid(Strict):
    id: str
    name: str
    community: str
    compounds: list[Compound] = Field(min_length=1)
    public_places: list[PublicPlace] = []
    boundary: Boundary | None = None  # the grid's outline on the workplace's map (optional)
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


class Links(Strict):
    """What flows may know of the platforms, channel-neutral: the Telegram bot's username for deep
    links (t.me/NAME?start=…; "" = no link) and whether announcements also reach the WeChat
    account's followers. bot.config derives it from the platform settings."""

    bot_username: str = ""
    announce_to_followers: bool = False
    workplace_url: str = ""  # the staff workplace's base URL (http.public_url), for sign-in links


class Config(Strict):
    """The model of one subdistrict, as every flow sees it."""

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
    privacy: PrivacySettings = PrivacySettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    announcements: list[ConfiguredAnnouncement] = []
    working_time: WorkingTime = WorkingTime()

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
