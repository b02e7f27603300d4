"""Transcripts of binding a chat account to a staff person with a one-time invite code."""

from __future__ import annotations

from dataclasses import replace

from bot.app import App
from bot.bootstrap import staff_seeds
from bot.config import Config
from handlers.dispatcher import create_invite
from storage import reads
from storage.accounts import sync_people
from storage.clock import FakeClock
from tests.chat import ChatUser, account, read


async def invite(app: App, person_id: str) -> str:
    async with app.db.transaction() as conn:
        return await create_invite(conn, person_id, app.clock.now())


async def bound_person(app: App, user: str, channel: str = "console") -> str | None:
    found = await account(app, channel, user)
    return found.person_id if found else None


async def invite_use(app: App, code: str) -> tuple[object, str | None]:
    """When and by which account the invite was used (None, None while unused)."""
    found = await read(app, reads.invite, code)
    assert found is not None, code
    return found.used_at, found.used_by


async def test_bind_with_a_good_code(app: App, leader: ChatUser) -> None:
    code = await invite(app, "g01-leader")
    await leader.say(f"/bind {code}")
    assert leader.text == "绑定成功！您好，万秀英（支部网格长）。新工单会发到这里。"
    assert leader.last.main_keyboard is True
    assert await bound_person(app, "leader-g01") == "g01-leader"
    assert (await invite_use(app, code))[1] == "console:leader-g01"


async def test_bind_with_a_bad_code(app: App, leader: ChatUser) -> None:
    await invite(app, "g01-leader")
    await leader.say("/bind NOTACODE")
    assert leader.text == "邀请码无效或已过期，请向街道管理员重新获取。"
    assert await bound_person(app, "leader-g01") is None
    await leader.say("/bind")
    assert leader.text == "请发送 /bind 邀请码 完成绑定。"


async def test_an_invite_is_used_once(app: App, leader: ChatUser) -> None:
    code = await invite(app, "g01-leader")
    await leader.say(f"/bind {code}")
    intruder = ChatUser(app, "intruder")
    await intruder.say(f"/bind {code}")
    assert "邀请码无效" in intruder.text
    assert await bound_person(app, "intruder") is None
    assert await bound_person(app, "leader-g01") == "g01-leader"


async def test_an_expired_invite_is_refused(app: App, clock: FakeClock, leader: ChatUser) -> None:
    code = await invite(app, "g01-leader")
    clock.advance(days=8)
    await leader.say(f"/bind {code}")
    assert "邀请码无效或已过期" in leader.text
    assert await bound_person(app, "leader-g01") is None


async def test_an_invite_is_good_for_a_week(app: App, clock: FakeClock, leader: ChatUser) -> None:
    code = await invite(app, "g01-leader")
    clock.advance(days=6, hours=23)
    await leader.say(f"/bind {code.lower()}")  # typed by hand, any case
    assert "绑定成功" in leader.text


async def test_start_with_a_bind_link(app: App, leader: ChatUser) -> None:
    code = await invite(app, "g01-guide")
    await leader.say(f"/start bind-{code}")
    assert leader.text == "绑定成功！您好，夏敏（网格指导员）。新工单会发到这里。"
    assert await bound_person(app, "leader-g01") == "g01-guide"


async def test_bind_by_typing_the_word(app: App, leader: ChatUser) -> None:
    code = await invite(app, "sd-admin-1")
    await leader.say(f"绑定 {code}")
    assert "许文博（街道管理员）" in leader.text
    assert await bound_person(app, "leader-g01") == "sd-admin-1"


async def test_bind_is_not_done_in_a_group(app: App, leader: ChatUser) -> None:
    code = await invite(app, "g01-leader")
    await leader.say(f"/bind {code}", group=True)
    assert "请私聊我" in leader.text
    assert await bound_person(app, "leader-g01") is None
    assert (await invite_use(app, code))[0] is None


async def test_an_invite_for_someone_no_longer_in_config_is_refused(
    app: App, config: Config, leader: ChatUser
) -> None:
    code = await invite(app, "g01-leader")
    async with app.db.transaction() as conn:  # config changed: g01-leader is gone
        await sync_people(conn, [s for s in staff_seeds(config) if s.id != "g01-leader"], app.clock.now())
    await leader.say(f"/bind {code}")
    assert leader.text == "邀请码无效或已过期，请向街道管理员重新获取。"
    assert await invite_use(app, code) == (None, None)
    assert await bound_person(app, "leader-g01") is None
    # Back in config, the same code still works: it was not burnt.
    async with app.db.transaction() as conn:
        await sync_people(conn, staff_seeds(config), app.clock.now())
    await leader.say(f"/bind {code}")
    assert "绑定成功" in leader.text
    assert await bound_person(app, "leader-g01") == "g01-leader"


async def test_a_telegram_id_removed_from_config_no_longer_binds(
    app: App, config: Config, clock: FakeClock
) -> None:
    invited = ChatUser(app, "invited-guide")
    async with app.db.transaction() as conn:
        code = await create_invite(conn, "g01-guide", clock.now())
    await invited.say(f"/bind {code}")
    seeds = staff_seeds(config)
    with_id = [replace(s, telegram_id=555) if s.id == "g01-leader" else s for s in seeds]
    async with app.db.transaction() as conn:
        await sync_people(conn, with_id, clock.now())
    assert await bound_person(app, "555", "telegram") == "g01-leader"
    async with app.db.transaction() as conn:
        await sync_people(conn, seeds, clock.now())
    found = await account(app, "telegram", "555")
    assert found is not None and found.person_id is None
    # A binding made with an invite code is not touched by config syncs.
    assert await bound_person(app, "invited-guide") == "g01-guide"
