"""The official account's custom menu (自定义菜单): built from config.menus, checked, pushed.

Click keys are the same button data Telegram's menu buttons carry (``i:<item key>``), so a WeChat
CLICK event runs exactly the handler a Telegram button press does.
"""

from __future__ import annotations

from typing import Any

from bot.channels.wechat.api import WeChatAPI
from bot.config import Config
from handlers.buttons import ItemButton
from handlers.domain.model import MenuItem, MenuItemKind

MENU_CREATE_PATH = "/cgi-bin/menu/create"

# WeChat's documented limits for menu/create.
MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16  # 4 Chinese characters
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
BUTTON_TYPES = ("click", "view")


def _sub_button(item: MenuItem) -> dict[str, str]:
    if item.kind is MenuItemKind.LINK:
        return {"type": "view", "name": item.title, "url": item.url}
    return {"type": "click", "name": item.title, "key": ItemButton(item.key).encode()}


def build_menu(config: Config) -> dict[str, Any]:
    """The menu/create body: one top-level button per config menu, its items as sub-buttons."""
    return {"button": [
        {"name": menu.title, "sub_button": [_sub_button(item) for item in menu.items]}
        for menu in config.menus
    ]}


def _size(value: object) -> int:
    return len(str(value).encode("utf-8"))


def _check_name(button: dict[str, Any], path: str, limit: int) -> list[str]:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        return [f"{path}.name: missing"]
    if _size(name) > limit:
        return [f"{path}.name: {_size(name)} bytes > {limit}"]
    return []


def _check_leaf(button: dict[str, Any], path: str, keys: dict[str, str]) -> list[str]:
    """A button that does something when pressed: click (sends key) or view (opens url)."""
    kind = button.get("type")
    if kind == "click":
        key = button.get("key")
        if not isinstance(key, str) or not key:
            return [f"{path}.key: missing"]
        if _size(key) > MAX_KEY_BYTES:
            return [f"{path}.key: {_size(key)} bytes > {MAX_KEY_BYTES}"]
        if key in keys:
            return [f"{path}.key: duplicate {key!r} (first at {keys[key]})"]
        keys[key] = f"{path}.key"
        return []
    if kind == "view":
        url = button.get("url")
        if not isinstance(url, str) or not url:
            return [f"{path}.url: missing"]
        if not url.startswith(("http://", "https://")):
            return [f"{path}.url: must start with http:// or https://"]
        if _size(url) > MAX_URL_BYTES:
            return [f"{path}.url: {_size(url)} bytes > {MAX_URL_BYTES}"]
        return []
    return [f"{path}.type: {kind!r} is not one of {', '.join(BUTTON_TYPES)}"]


def _check_top(button: object, path: str, keys: dict[str, str]) -> list[str]:
    if not isinstance(button, dict):
        return [f"{path}: not an object"]
    problems = _check_name(button, path, MAX_TOP_NAME_BYTES)
    if "sub_button" not in button:  # a top-level button may itself be a click or view button
        return problems + _check_leaf(button, path, keys)
    subs = button["sub_button"]
    if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
        count = len(subs) if isinstance(subs, list) else "no list of"
        return problems + [f"{path}.sub_button: {count} buttons, need 1-{MAX_SUB_BUTTONS}"]
    for j, sub in enumerate(subs):
        sub_path = f"{path}.sub_button[{j}]"
        if not isinstance(sub, dict):
            problems.append(f"{sub_path}: not an object")
            continue
        problems += _check_name(sub, sub_path, MAX_SUB_NAME_BYTES)
        problems += _check_leaf(sub, sub_path, keys)
    return problems


def validate_menu(menu: dict[str, Any]) -> list[str]:
    """Every way `menu` breaks WeChat's menu/create limits, each naming its button path."""
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP_BUTTONS:
        count = len(buttons) if isinstance(buttons, list) else "no list of"
        return [f"button: {count} buttons, need 1-{MAX_TOP_BUTTONS}"]
    keys: dict[str, str] = {}
    problems: list[str] = []
    for i, button in enumerate(buttons):
        problems += _check_top(button, f"button[{i}]", keys)
    return problems


def summarize_menu(menu: dict[str, Any]) -> str:
    """One line for people: how many menus and buttons of each kind."""
    subs = [sub for button in menu["button"] for sub in button.get("sub_button", [])]
    clicks = sum(1 for sub in subs if sub.get("type") == "click")
    views = sum(1 for sub in subs if sub.get("type") == "view")
    titles = " / ".join(button["name"] for button in menu["button"])
    return f"{titles}：{len(subs)} 个子菜单（{clicks} 个点击，{views} 个链接）"


async def push_menu(api: WeChatAPI, menu: dict[str, Any]) -> None:
    """Replace the account's custom menu; a menu that breaks WeChat's limits is never sent."""
    problems = validate_menu(menu)
    if problems:
        raise ValueError("invalid WeChat menu: " + "; ".join(problems))
    await api.post(MENU_CREATE_PATH, menu)
