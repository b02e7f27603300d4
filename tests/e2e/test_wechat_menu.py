"""The WeChat custom menu: built from config.yaml, checked against WeChat's limits, pushed by the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.app import App
from bot.channels.wechat.menu import build_menu, validate_menu
from bot.config import Config
from handlers.domain.model import MenuItem, MenuItemKind
from handlers.types import Channel
from tests.chat import ChatUser
from tests.e2e.test_cli import run_cli, write_config
from tests.fakes.wechat_api import MENU_CREATE, TOKEN, FakeWeChatAPI

APP_ID = "wx0123456789abcdef"
SECRET = "menu-test-secret-7f3a"


def _menu(*subs: dict, name: str = "微服务") -> dict:
    return {"button": [{"name": name, "sub_button": list(subs)}]}


def _click(key: str = "i:report", name: str = "我要反映") -> dict:
    return {"type": "click", "name": name, "key": key}


def _view(url: str = "https://example.org/", name: str = "链接") -> dict:
    return {"type": "view", "name": name, "url": url}


def test_the_real_config_gives_three_menus_of_five_click_buttons(config: Config) -> None:
    menu = build_menu(config)
    assert [b["name"] for b in menu["button"]] == ["微丰山", "微党建", "微服务"]
    assert [len(b["sub_button"]) for b in menu["button"]] == [5, 5, 5]
    services = menu["button"][2]["sub_button"]
    assert services[0] == {"type": "click", "name": "我要反映", "key": "i:report"}
    assert [s["key"] for s in services] == [f"i:{item.key}" for item in config.menus[2].items]
    assert validate_menu(menu) == []


def test_a_link_item_becomes_a_view_button(config: Config) -> None:
    link = MenuItem(key="gov", title="政务公开", kind=MenuItemKind.LINK, url="https://www.chuzhou.gov.cn/")
    first = config.menus[0].model_copy(update={"items": [link, *config.menus[0].items[1:]]})
    menu = build_menu(config.model_copy(update={"menus": [first, *config.menus[1:]]}))
    assert menu["button"][0]["sub_button"][0] == {
        "type": "view", "name": "政务公开", "url": "https://www.chuzhou.gov.cn/"}
    assert validate_menu(menu) == []


async def test_a_click_key_runs_the_same_handler_as_the_telegram_button(app: App, config: Config) -> None:
    key = build_menu(config)["button"][2]["sub_button"][0]["key"]
    resident = ChatUser(app, "o-wechat-openid-1", channel=Channel.WECHAT)
    await resident.press_data(key)
    assert "请选择要反映的问题类别" in resident.text
    assert "水电维修" in resident.options

    content = build_menu(config)["button"][0]["sub_button"][0]["key"]
    await resident.press_data(content)
    assert resident.text == f"【丰山资讯】\n{config.menus[0].items[0].text}"


def test_validate_counts_buttons() -> None:
    assert validate_menu({"button": []}) == ["button: 0 buttons, need 1-3"]
    four = {"button": [_menu(_click(f"k{i}"))["button"][0] for i in range(4)]}
    assert validate_menu(four) == ["button: 4 buttons, need 1-3"]
    assert validate_menu(_menu()) == ["button[0].sub_button: 0 buttons, need 1-5"]
    six = _menu(*[_click(f"k{i}") for i in range(6)])
    assert validate_menu(six) == ["button[0].sub_button: 6 buttons, need 1-5"]


def test_validate_measures_names_in_utf8_bytes() -> None:
    assert validate_menu(_menu(_click(), name="微丰山服务")) == []  # 15 bytes
    assert validate_menu(_menu(_click(), name="微丰山服务中")) == ["button[0].name: 18 bytes > 16"]
    long_sub = "我" * 21
    assert validate_menu(_menu(_click(), _click("k2", long_sub))) == [
        "button[0].sub_button[1].name: 63 bytes > 60"]
    assert validate_menu(_menu(_click(name=" "))) == ["button[0].sub_button[0].name: missing"]


def test_validate_checks_keys_and_urls() -> None:
    assert validate_menu(_menu(_click(key=""))) == ["button[0].sub_button[0].key: missing"]
    assert validate_menu(_menu(_click(key="k" * 129))) == [
        "button[0].sub_button[0].key: 129 bytes > 128"]
    assert validate_menu(_menu(_click(key="k" * 128))) == []
    assert validate_menu(_menu(_click(), _click(name="再次"))) == [
        "button[0].sub_button[1].key: duplicate 'i:report' (first at button[0].sub_button[0].key)"]
    assert validate_menu(_menu(_view("ftp://example.org/"))) == [
        "button[0].sub_button[0].url: must start with http:// or https://"]
    assert validate_menu(_menu(_view("https://example.org/" + "a" * 1005))) == [
        "button[0].sub_button[0].url: 1025 bytes > 1024"]
    assert validate_menu(_menu(_view("http://example.org/"))) == []
    assert validate_menu(_menu({"type": "scancode_push", "name": "扫码", "key": "s"})) == [
        "button[0].sub_button[0].type: 'scancode_push' is not one of click, view"]


def test_every_problem_is_listed_with_its_path() -> None:
    menu = {"button": [
        {"name": "微丰山", "sub_button": [_click("i:a")]},
        {"name": "微服务", "sub_button": [_click("i:a"), _view("www.example.org")]},
        {"name": "一个太长的栏目", "type": "click", "key": "i:top"},
    ]}
    assert validate_menu(menu) == [
        "button[1].sub_button[0].key: duplicate 'i:a' (first at button[0].sub_button[0].key)",
        "button[1].sub_button[1].url: must start with http:// or https://",
        "button[2].name: 21 bytes > 16",
    ]


def test_cli_prints_the_menu_as_json(tmp_path: Path, config: Config) -> None:
    result = run_cli("--config", str(write_config(tmp_path)), "wechat-menu")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == build_menu(config)
    assert "微丰山" in result.stdout  # readable Chinese, not \\u escapes
    assert not list(tmp_path.glob("*.db*"))  # printing opens no database


def test_cli_refuses_a_menu_title_wechat_cannot_show(tmp_path: Path) -> None:
    def long_title(data: dict) -> None:
        data["menus"][1]["title"] = "微党建服务中心"

    result = run_cli("--config", str(write_config(tmp_path, long_title)), "wechat-menu")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "button[1].name: 21 bytes > 16" in result.stderr


def _wechat_config(folder: Path, fake_url: str = "http://127.0.0.1:9") -> Path:
    return write_config(folder, lambda d: d.update(wechat={"app_id": APP_ID, "api_base_url": fake_url}))


async def _push(config_file: Path, secret: str = SECRET):  # noqa: ANN202 - CompletedProcess
    # The fake server runs on this event loop, so the CLI process is waited for in a thread.
    return await asyncio.to_thread(run_cli, "--config", str(config_file), "wechat-menu", "--push",
                                   env={"WECHAT_APP_SECRET": secret, "WECHAT_TOKEN": ""})


async def test_push_replaces_the_menu_and_reuses_the_stored_token(tmp_path: Path, config: Config) -> None:
    async with FakeWeChatAPI(APP_ID, SECRET) as fake:
        path = _wechat_config(tmp_path, fake.url)
        result = await _push(path)
        assert result.returncode == 0, result.stderr
        assert "已推送自定义菜单" in result.stdout
        assert "微丰山 / 微党建 / 微服务：15 个子菜单（15 个点击，0 个链接）" in result.stdout
        assert fake.menu == build_menu(config)
        # A second push uses the token kept in the bot's database instead of invalidating it.
        again = await _push(path)
        assert again.returncode == 0, again.stderr
    assert fake.tokens_issued == 1
    assert [a.call.path for a in fake.attempts] == [TOKEN, MENU_CREATE, MENU_CREATE]
    assert (tmp_path / "bot.db").exists()


def test_push_without_the_app_secret_says_what_is_missing(tmp_path: Path) -> None:
    def push(path: Path, secret: str):  # noqa: ANN202 - CompletedProcess
        return run_cli("--config", str(path), "wechat-menu", "--push",
                       env={"WECHAT_APP_SECRET": secret, "WECHAT_TOKEN": ""})

    result = push(_wechat_config(tmp_path), "")
    assert result.returncode == 2
    assert result.stderr.strip() == "wechat-menu --push: needs WECHAT_APP_SECRET in the environment"
    no_app = push(write_config(tmp_path), SECRET)
    assert no_app.returncode == 2
    assert no_app.stderr.strip() == "wechat-menu --push: needs wechat.app_id in the config"
    assert not list(tmp_path.glob("*.db*"))


async def test_a_wechat_error_is_shown_and_exits_1(tmp_path: Path) -> None:
    async with FakeWeChatAPI(APP_ID, SECRET) as fake:
        fake.fail_next(MENU_CREATE, 40018, "invalid button name size")
        result = await _push(_wechat_config(tmp_path, fake.url))
    assert result.returncode == 1
    assert "40018 invalid button name size" in result.stderr
    assert "已推送" not in result.stdout
    assert fake.menu is None
    assert SECRET not in result.stderr and "ACCESS_TOKEN_" not in result.stderr


async def test_a_wrong_secret_and_an_unreachable_server_exit_1(tmp_path: Path) -> None:
    async with FakeWeChatAPI(APP_ID, SECRET) as fake:
        wrong = await _push(_wechat_config(tmp_path, fake.url), secret="not-the-secret")
    assert wrong.returncode == 1
    assert "40125 invalid appsecret" in wrong.stderr and "not-the-secret" not in wrong.stderr

    down = await _push(_wechat_config(tmp_path, fake.url))  # the fake has stopped
    assert down.returncode == 1
    assert "推送失败 cannot reach" in down.stderr
    assert SECRET not in down.stderr and "Traceback" not in down.stderr
