"""The announcement's target list (issue 13, big, clear options): 全部群 and the communities, nine a
page with 更多 / 上一页 (handlers/paging.py) when a subdistrict has many; forged page data is
refused politely and nothing is chosen."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, dialogs


@pytest.fixture
async def many(config: Config, clock: FakeClock, tmp_path: Path):
    extra = [config.communities[-1].model_copy(update={"id": f"extra{n}", "name": f"新社区{n}"}) for n in range(8)]
    app = await build_app(config.model_copy(update={"communities": [*config.communities, *extra]}), clock,
                          tmp_path / "many.db")
    yield app
    await app.close()


async def admin_at_targets(app: App) -> ChatUser:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.say("发布公告")
    await admin.say("周六上午停水，请提前储水")
    return admin


async def test_many_communities_page_with_more_and_previous(many: App) -> None:
    admin = await admin_at_targets(many)
    assert admin.text.startswith("发到哪些群？") and "（第 1/2 页）" in admin.text
    names = [c.name for c in many.config.communities]
    assert admin.options == ["全部群", *names[:8], "更多", "返回", "取消"]
    await admin.press("更多")
    assert "（第 2/2 页）" in admin.text
    assert admin.options == [*names[8:], "上一页", "返回", "取消"]
    await admin.press("新社区7")
    assert "什么时候发送" in admin.text
    [open_dialog] = await dialogs(many)
    assert open_dialog.dialog.data["target"] == "extra7"


async def test_typed_words_turn_the_page(many: App) -> None:
    admin = await admin_at_targets(many)
    await admin.say("更多")  # typed, as read (Telegram shows it as a button)
    assert "（第 2/2 页）" in admin.text
    await admin.say("上一页")
    assert "（第 1/2 页）" in admin.text and admin.options[0] == "全部群"


@pytest.mark.parametrize("data", ["pg:2", "pg:99999999999", "pg:x"])
async def test_forged_page_data_is_refused_politely(many: App, data: str) -> None:
    admin = await admin_at_targets(many)
    await admin.press("更多")
    await admin.press_data(data)
    assert "没有这一页了" in admin.text and "（第 2/2 页）" in admin.text
    [open_dialog] = await dialogs(many)
    assert (open_dialog.dialog.step, "target" in open_dialog.dialog.data) == ("target", False)


async def test_the_usual_four_communities_show_on_one_page(app: App) -> None:
    admin = await admin_at_targets(app)
    assert "（第" not in admin.text and "更多" not in admin.options
