"""The shipped config.yaml is the real Fengshan sample; every config mistake is one clear line."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Config, ConfigError, load_config
from bot.settings import load_settings, wechat_enabled
from handlers.domain.model import Role

SHIPPED = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED)


@pytest.fixture
def raw() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def write(tmp_path: Path, data: object, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


# --- the shipped sample -------------------------------------------------------------------


def test_shipped_config_loads_with_the_article_figures(config: Config) -> None:
    assert config.subdistrict.name == "丰山街道"
    assert config.subdistrict.city == "滁州市"
    assert config.subdistrict.district == "琅琊区"
    assert config.subdistrict.timezone == "Asia/Shanghai"
    assert len(config.grids) == 39
    assert len(config.red_posts) == 6
    assert len(config.volunteer_teams) == 23
    assert len(config.communities) >= 4
    # 5 党群服务中心 (subdistrict + communities) plus the 社会组织党群服务中心
    assert len(config.communities) + 1 == 5
    assert len(config.service_points) == 6
    assert sum("养老服务站" in p.name for p in config.care_points) == 3
    assert sum("托育" in p.name for p in config.care_points) == 1


def test_communities_from_the_article(config: Config) -> None:
    ids = {c.id for c in config.communities}
    assert {"longchi", "nanqiao", "fengle", "gaoan"} <= ids
    for community in config.communities:
        assert community.center.name.endswith("社区党群服务中心")
        assert community.center.address and community.center.hours and community.center.phone
        assert 1 <= len(community.staff) <= 2


def test_grids_have_ids_g01_to_g39_and_known_communities(config: Config) -> None:
    ids = [g.id for g in config.grids]
    assert ids == [f"G{n:02d}" for n in range(1, 40)]
    communities = {c.id for c in config.communities}
    for grid in config.grids:
        assert grid.community in communities, grid.id
        assert grid.name.endswith("网格"), grid.id
        assert len(grid.leaders) == 1, grid.id
        assert 1 <= len(grid.workers) <= 2, grid.id
    assert {g.community for g in config.grids} == communities


def test_compounds_named_in_the_article_are_present(config: Config) -> None:
    compounds = {c.name for g in config.grids for c in g.compounds}
    assert {"龙池花园", "西涧二村"} <= compounds


def test_every_building_belongs_to_exactly_one_grid(config: Config) -> None:
    owner: dict[tuple[str, str], str] = {}
    for grid in config.grids:
        for compound in grid.compounds:
            for building in compound.buildings:
                key = (compound.name, building)
                assert key not in owner, f"{key} in {owner.get(key)} and {grid.id}"
                owner[key] = grid.id
                assert re.fullmatch(r"\d+栋", building), building


def test_split_compounds_keep_the_same_aliases(config: Config) -> None:
    aliases: dict[str, list[str]] = {}
    for grid in config.grids:
        for compound in grid.compounds:
            assert aliases.setdefault(compound.name, compound.aliases) == compound.aliases


def test_people_are_unique_fictitious_and_unbound(config: Config) -> None:
    people = config.all_people()
    ids = [p.id for p, _, _, _ in people]
    assert len(ids) == len(set(ids))
    for person, _, _, _ in people:
        assert person.telegram_id is None, person.id
        assert person.wechat_openid is None, person.id
        assert re.fullmatch(r"1[3-9]\d{9}", person.phone), person.id
        assert person.name
    assert sum(role is Role.ADMIN for _, role, _, _ in people) == 2


def test_raw_yaml_has_no_account_bindings_or_secrets() -> None:
    def keys(node: object) -> set[str]:
        if isinstance(node, dict):
            return set(node) | set().union(*(keys(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(keys(v) for v in node))
        return set()

    text = SHIPPED.read_text(encoding="utf-8")
    found = keys(yaml.safe_load(text))
    assert not found & {"telegram_id", "wechat_openid", "token", "secret", "telegram_token"}
    assert not re.search(r"\d{8,10}:[A-Za-z0-9_-]{30,}", text)  # a Telegram bot token
    assert "TELEGRAM_BOT_TOKEN" in text.split("\n\n")[0]  # the header says where secrets live


def test_categories_follow_the_1_5_n_services(config: Config) -> None:
    hours = {c.id: (c.ack_hours, c.resolve_hours) for c in config.categories}
    assert hours == {
        "repair": (2, 48),
        "dispute": (4, 72),
        "sanitation": (4, 48),
        "gas": (2, 24),
        "elevator": (24, 720),
        "policy": (8, 72),
        "opinion": (24, 168),
        "other": (8, 120),
    }
    for category in config.categories:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", category.id)
        assert len(category.name) <= 12
    gas = config.category("gas")
    assert gas is not None and gas.responders
    responders = {p.id for p in config.responders}
    assert {r.person for r in gas.responders} <= responders


def test_menus_are_the_three_wechat_columns(config: Config) -> None:
    assert [(m.key, m.title) for m in config.menus] == [
        ("weifengshan", "微丰山"),
        ("weidangjian", "微党建"),
        ("weifuwu", "微服务"),
    ]
    keys = [item.key for menu in config.menus for item in menu.items]
    assert len(keys) == len(set(keys))
    actions = {item.action for menu in config.menus for item in menu.items if item.action}
    assert {a.value for a in actions} == {
        "report",
        "my_tickets",
        "contact_grid",
        "service_points",
        "red_posts",
        "volunteer_teams",
        "care_points",
    }
    for menu in config.menus:
        assert 1 <= len(menu.items) <= 5
        for item in menu.items:
            assert len(item.title) <= 8, item.key
            assert len(item.text) <= 300, item.key


def test_volunteer_teams_name_known_communities(config: Config) -> None:
    communities = {c.id for c in config.communities}
    names = [t.name for t in config.volunteer_teams]
    assert len(names) == len(set(names))
    assert any("六色花" in n for n in names)
    assert any("巾帼" in n for n in names)
    for team in config.volunteer_teams:
        assert team.community is None or team.community in communities
        assert team.focus


def test_red_posts_say_who_is_on_duty(config: Config) -> None:
    for post in config.red_posts:
        assert "网格指导员" in post.note and "值守" in post.note


def test_telegram_and_storage_settings(config: Config) -> None:
    assert config.telegram.base_url == "https://api.telegram.org/bot"
    assert config.telegram.bot_username == "weifengshan_bot"
    assert config.telegram.poll_timeout == 25
    assert config.storage.database == "data/fengshan.db"


def test_round_trip_through_yaml_dump_still_loads(tmp_path: Path, raw: dict[str, Any]) -> None:
    assert load_config(write(tmp_path, raw)) == load_config(SHIPPED)


def test_settings_come_from_the_environment_only() -> None:
    config = load_config(SHIPPED)
    assert load_settings({"TELEGRAM_BOT_TOKEN": " 123:abc \n"}, config).telegram_token == "123:abc"
    assert load_settings({}, config).telegram_token == ""


def test_webhook_mode_needs_a_public_url_and_a_strong_secret(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["telegram"]["mode"] = "webhook"
    with pytest.raises(ConfigError, match=r"telegram: webhook mode needs webhook_public_url"):
        load_config(write(tmp_path, raw))
    raw["telegram"]["webhook_public_url"] = "https://bot.example.org/telegram/webhook"
    config = load_config(write(tmp_path, raw))
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings({"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_SECRET": "short"}, config)
    secret = "s3cret-webhook_token-0123"
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_SECRET": secret}, config)
    assert settings.telegram_webhook_secret == secret


def test_wechat_needs_its_secrets_once_enabled(tmp_path: Path, raw: dict[str, Any]) -> None:
    config = load_config(SHIPPED)
    assert not wechat_enabled(load_settings({"WECHAT_TOKEN": "tok123"}, config), config)  # no app_id
    raw["wechat"]["app_id"] = "wx0123456789abcdef"
    config = load_config(write(tmp_path, raw))
    key = "a" * 43
    env = {"WECHAT_TOKEN": "tok123", "WECHAT_ENCODING_AES_KEY": key, "WECHAT_APP_SECRET": "s"}
    assert wechat_enabled(load_settings(env, config), config)
    with pytest.raises(ConfigError, match="WECHAT_ENCODING_AES_KEY"):
        load_settings(env | {"WECHAT_ENCODING_AES_KEY": "short"}, config)
    with pytest.raises(ConfigError, match="WECHAT_TOKEN"):
        load_settings(env | {"WECHAT_TOKEN": "bad token!"}, config)
    with pytest.raises(ConfigError, match="WECHAT_APP_SECRET"):
        load_settings({k: v for k, v in env.items() if k != "WECHAT_APP_SECRET"}, config)


def test_wecom_robot_keys_come_from_their_env_names(config: Config) -> None:
    settings = load_settings({"WECOM_ROBOT_NANQIAO": " key-1 "}, config)
    assert settings.wecom_robot_keys == {"nanqiao": "key-1"}


# --- error cases: one line, naming the key path ----------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _add_sixth_item(data: dict[str, Any]) -> None:
    data["menus"][2]["items"].append(
        {"key": "sixth", "title": "第六项", "kind": "action", "action": "report"}
    )


def _building_in_two_grids(data: dict[str, Any]) -> None:
    first = data["grids"][0]["compounds"][0]
    data["grids"][1]["compounds"][0]["buildings"].append(first["buildings"][0])


CASES: list[tuple[str, Mutation, tuple[str, ...]]] = [
    (
        "unknown top-level key",
        lambda d: d.update(wechat_secret="x"),
        ("wechat_secret: unknown key",),
    ),
    (
        "unknown nested key",
        lambda d: d["grids"][3]["leaders"][0].update(nickname="老王"),
        ("grids[G04].leaders[0].nickname: unknown key",),
    ),
    (
        "missing community",
        lambda d: d["grids"][5].update(community="langya"),
        ("grids[G06].community", "unknown community 'langya'"),
    ),
    (
        "duplicate grid id",
        lambda d: d["grids"][1].update(id="G01"),
        ("grids[1].id", "duplicate grid id 'G01'", "grids[0].id"),
    ),
    (
        "duplicate person id",
        lambda d: d["grids"][4]["workers"][0].update(id="g01-leader"),
        ("grids[G05].workers[0].id", "duplicate person id 'g01-leader'", "grids[G01].leaders[0].id"),
    ),
    (
        "person id shared by staff and admin",
        lambda d: d["admins"][1].update(id=d["communities"][0]["staff"][0]["id"]),
        ("admins[1].id", "communities[0].staff[0].id"),
    ),
    (
        "building in two grids",
        _building_in_two_grids,
        ("grids[G02].compounds[0].buildings[", "duplicate building", "grids[G01].compounds[0]"),
    ),
    ("menu with six items", _add_sixth_item, ("menus[2].items", "at most 5")),
    (
        "bad timezone",
        lambda d: d["subdistrict"].update(timezone="Asia/Chuzhou"),
        ("subdistrict.timezone", "Asia/Chuzhou"),
    ),
    (
        "unquoted phone",
        lambda d: d["grids"][0]["leaders"][0].update(phone=13905500110),
        ("grids[G01].leaders[0].phone",),
    ),
    (
        "resolve before ack",
        lambda d: d["categories"][0].update(resolve_hours=1),
        ("categories[0]", "resolve_hours"),
    ),
    (
        "unknown responder",
        lambda d: d["categories"][3]["responders"][0].update(person="nobody"),
        ("categories[3].responders[0].person", "'nobody'"),
    ),
    (
        "volunteer team in a missing community",
        lambda d: d["volunteer_teams"][0].update(community="langya"),
        ("volunteer_teams[0].community", "'langya'"),
    ),
    (
        "menu item key reused",
        lambda d: d["menus"][1]["items"][0].update(key="news"),
        ("menus[1].items[0].key", "duplicate menu item key 'news'"),
    ),
    (
        "content item without text",
        lambda d: d["menus"][0]["items"][0].pop("text"),
        ("menus[0].items[0]", "needs text"),
    ),
    ("missing required key", lambda d: d["subdistrict"].pop("name"), ("subdistrict.name",)),
    ("only two menus", lambda d: d["menus"].pop(), ("menus",)),
    (
        "robot in a missing community",
        lambda d: d["wecom"]["robots"][1].update(community="langya"),
        ("wecom.robots[1].community", "'langya'"),
    ),
    (
        "robot id reused",
        lambda d: d["wecom"]["robots"][1].update(id="longchi-huayuan"),
        ("wecom.robots[1].id", "duplicate robot id"),
    ),
    (
        "template for an unknown notification",
        lambda d: d["wechat"].update(templates={"digest": "TPL"}),
        ("wechat.templates.digest", "unknown notification kind"),
    ),
    ("bad app id", lambda d: d["wechat"].update(app_id="wechat-app"), ("wechat.app_id",)),
    (
        "announcement to an unknown place",
        lambda d: d["announcements"][0].update(target="langya"),
        ("announcements[0].target", "'langya'"),
    ),
    (
        "announcement that runs once",
        lambda d: d["announcements"][1].update(when="12-31 09:00"),
        ("announcements[1].when", "repeating"),
    ),
    (
        "announcement with a numbered weekday",
        lambda d: d["announcements"][0].update(when="0 18 * * 5"),
        ("announcements[0].when", "day names"),
    ),
    ("digest that is not cron", lambda d: d["scheduler"].update(digest="周一"), ("scheduler.digest",)),
    (
        "robot key in the config",
        lambda d: d["wecom"]["robots"][0].update(key_env="https://qyapi.weixin.qq.com/?key=abc"),
        ("wecom.robots[0].key_env",),
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fragments"), [(m, f) for _, m, f in CASES], ids=[c[0] for c in CASES]
)
def test_bad_config_is_one_line_naming_the_key_path(
    tmp_path: Path, raw: dict[str, Any], mutate: Mutation, fragments: tuple[str, ...]
) -> None:
    mutate(raw)
    message = config_error(write(tmp_path, raw))
    for fragment in fragments:
        assert fragment in message


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("subdistrict:\n  name: 丰山街道\n\tcity: 滁州市\n", encoding="utf-8")
    message = config_error(path)
    assert "not valid YAML" in message
    assert "line 3" in message


def test_malformed_yaml_in_the_shipped_file_names_its_line(tmp_path: Path) -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip() == "grids:")
    lines.insert(index + 1, "  - id: [G00")
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = config_error(path)
    assert re.search(r"at line \d+, column \d+", message), message


def test_missing_file(tmp_path: Path) -> None:
    message = config_error(tmp_path / "nope.yaml")
    assert "cannot read" in message


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "just a string\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert "top level must be a mapping" in config_error(path)
