"""Hostile input end to end: markup injection in relayed text, and people acting on tickets that
are not theirs (outsiders, other grids' leaders, anonymous group admins, forged button data).

The real bot runs against the fake Bot API (and the WeChat fakes) on 127.0.0.1. Each test states
the attack and asserts what the people involved see and what the database holds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.config import Config
from storage.clock import FakeClock
from tests.chat import ChatUser, all_tickets, query
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.telegram_api import SentMessage
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.telegram_harness import TelegramRun
from tests.wechat_harness import WeChatRun, start_wechat

RESIDENT = 1001
LEADER = 2001  # g01-leader: the grid of 龙池花园3栋
OTHER_LEADER = 2002  # g02-leader
OUTSIDER = 3001  # never bound
CANARY = 4001
GROUP = -5001
GROUP_ANONYMOUS_BOT = 1087968824  # Telegram's "from" on messages of anonymous group admins
TELEGRAM_SERVICE = 777000  # Telegram's "from" on a linked channel's automatic forwards
CHANNEL = -1009876543210

INJECTION = ('<b>x</b> <a href="https://evil.example">点</a> *x* _y_ [z](https://evil.example) '
             "https://evil.example/free tg://user?id=1 楼道灯坏了")
REFUSED = "不归您处理"


async def report(run: TelegramRun, description: str = "3栋楼道灯坏了，晚上很黑") -> SentMessage:
    """The resident files a report in 龙池花园3栋 (grid G01); returns the leader's card."""
    await run.bind(LEADER, "g01-leader")
    mark = await run.file_report(RESIDENT, description)
    return await run.reply_to(LEADER, "新工单 #1", after=mark)


async def snapshot(run: TelegramRun) -> tuple:
    """Ticket #1 and its audit trail, and every open dialog: what a refused action must not touch."""
    return (await query(run.app, "SELECT status, grid_id, community_id, result_note, rating, updated_at"
                                 " FROM tickets WHERE id = 1"),
            await query(run.app, "SELECT action, actor_kind, actor_id, note FROM ticket_events"
                                 " WHERE ticket_id = 1 ORDER BY id"),
            await query(run.app, "SELECT channel, user_id, flow, step FROM dialogs WHERE flow != 'offer'"))


def assert_logged(caplog: pytest.LogCaptureFixture, *fragments: str, never: str = "") -> None:
    """A refusal line (INFO or above) with every fragment; no log line carries `never`."""
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(all(f in line for f in fragments) for line in lines), lines
    if never:
        assert not [line for line in lines if never in line]


def assert_plain(message: SentMessage) -> None:
    """Nothing in the send parameters can turn the text into formatting, a link or a preview."""
    assert message.parse_mode is None and "parse_mode" not in message.params
    assert "entities" not in message.params and "caption_entities" not in message.params
    if message.method == "sendMessage":
        assert message.link_preview_options == {"is_disabled": True}
    assert all("url" not in b for b in message.buttons)


# ---------------------------------------------------------------- injection


async def test_resident_markup_reaches_the_telegram_leader_as_plain_text(run: TelegramRun) -> None:
    """Attack: a resident's description holds HTML, Markdown, a bare link and tg://user?id=1.
    Expected: the leader's card carries it verbatim with no parse mode, no entities and link
    previews off, so Telegram shows it as typed; so does every other message that quotes it."""
    card = await report(run, INJECTION)
    assert INJECTION in (card.text or "")
    assert_plain(card)
    assert [b["text"] for b in card.buttons] == ["受理", "办结", "转派"]
    quoting = [m for m in run.fake.sent if "evil.example" in (m.text or "")]
    assert len(quoting) >= 2  # the resident's summary and the leader's card at least
    for message in quoting:
        assert_plain(message)


async def test_leader_note_reaches_the_resident_as_plain_text(run: TelegramRun) -> None:
    """Attack: the leader's 办结 note holds the same markup. Expected: the resident's notice shows
    it verbatim, no parse mode, previews off; the ticket is resolved with the note as typed."""
    await report(run)
    mark = len(run.fake.sent)
    run.fake.push_text(LEADER, f"办结 1 {INJECTION}")
    notice = await run.reply_to(RESIDENT, "已办结", after=mark)
    assert INJECTION in (notice.text or "")
    assert_plain(notice)
    assert await query(run.app, "SELECT status, result_note FROM tickets") == [("resolved", INJECTION)]


async def test_resident_markup_reaches_the_wechat_leader_without_a_live_link(
    config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
    session: aiohttp.ClientSession,
) -> None:
    """Attack: the same text sent by a WeChat resident. Expected: the card pushed to the leader
    on WeChat has no live <a> (angle brackets become full-width), the rest as typed."""
    resident, leader = "oResident0000000000000001", "oLeader00000000000000000001"
    run: WeChatRun = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    try:
        wx = run.platform
        assert "绑定成功" in (await run.bind(leader, "g01-leader")).text
        answer = await wx.click(resident, "i:report")
        answer = await wx.text(resident, option_number(answer.text, "水电维修"))
        assert "描述问题" in answer.text, answer
        answer = await wx.text(resident, INJECTION)
        assert "哪个社区" in answer.text, answer
        answer = await wx.text(resident, "龙池花园3号楼")
        answer = await wx.text(resident, option_number(answer.text, "跳过"))  # issue 13: the flat
        answer = await wx.text(resident, "13812345678")
        answer = await wx.text(resident, option_number(answer.text, "提交"))
        assert "工单号 #1" in answer.text, answer
        card = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == leader
                                          and "新工单 #1" in str(c.body))
        assert card.body is not None and card.body["msgtype"] == "text"
        content = card.body["text"]["content"]
        assert "<" not in content and ">" not in content
        assert '＜a href="https://evil.example"＞点＜/a＞' in content and "＜b＞x＜/b＞" in content
        assert "*x* _y_ [z](https://evil.example) https://evil.example/free tg://user?id=1" in content
    finally:
        await run.close()


# ---------------------------------------------------------------- authorization: presses


@pytest.mark.parametrize("presser, person", [(OUTSIDER, None), (OTHER_LEADER, "g02-leader"),
                                             (RESIDENT, None)])
@pytest.mark.parametrize("verb", ["ack", "res", "re"])
async def test_presses_by_people_outside_the_grid_change_nothing(
    run: TelegramRun, caplog: pytest.LogCaptureFixture, presser: int, person: str | None, verb: str
) -> None:
    """Attack: a non-member, another grid's leader or the reporter sends the card's callback data
    (t:ack:1 / t:res:1 / t:re:1) for a G01 ticket. Expected: a refusal; the ticket, its events
    and the dialogs unchanged (no audit row is written for a refusal); a WARNING naming the
    presser and the ticket."""
    await report(run)
    if person:
        await run.bind(presser, person)
    caplog.set_level(logging.INFO)
    before = await snapshot(run)
    mark = len(run.fake.sent)
    run.fake.push_callback(presser, f"t:{verb}:1", message_chat_id=presser)
    await run.reply_to(presser, REFUSED, after=mark)
    assert await snapshot(run) == before
    assert_logged(caplog, "refused", "ticket 1", f"telegram:{presser}")
    assert not [m for m in run.fake.sent[mark:] if m.chat_id in (RESIDENT, LEADER) and m.chat_id != presser]


# ---------------------------------------------------------------- authorization: typed commands


@pytest.mark.parametrize("text", ["受理 1", "办结 1 已更换灯泡", "转派 1 G08 不归我们管"])
@pytest.mark.parametrize("sender, person, answer", [
    (OUTSIDER, None, "是工作人员处理工单用的"),
    (OTHER_LEADER, "g02-leader", REFUSED),
])
async def test_typed_commands_by_people_outside_the_grid_change_nothing(
    run: TelegramRun, caplog: pytest.LogCaptureFixture, text: str, sender: int, person: str | None,
    answer: str,
) -> None:
    """Attack: a non-member or another grid's leader types 受理 1 / 办结 1 说明 / 转派 1 G08 原因.
    Expected: a refusal; ticket, events and dialogs unchanged; a log line naming the sender and
    ticket 1, without the typed note."""
    await report(run)
    if person:
        await run.bind(sender, person)
    caplog.set_level(logging.INFO)
    before = await snapshot(run)
    mark = len(run.fake.sent)
    run.fake.push_text(sender, text)
    await run.reply_to(sender, answer, after=mark)
    assert await snapshot(run) == before
    assert_logged(caplog, "refused", "ticket 1", f"telegram:{sender}", never="灯泡")
    assert_logged(caplog, "refused", never="不归我们管")


# ---------------------------------------------------------------- authorization: acting as a chat


def group_message(text: str, sender: dict, sender_chat: dict, message_id: int) -> dict:
    chat = {"id": GROUP, "type": "supergroup", "title": "龙池花园居民群"}
    return {"message": {"message_id": message_id, "date": 1764122400, "chat": chat, "from": sender,
                        "sender_chat": sender_chat, "text": text}}


ANONYMOUS_ADMIN = ({"id": GROUP_ANONYMOUS_BOT, "is_bot": True, "first_name": "Group",
                    "username": "GroupAnonymousBot"},
                   {"id": GROUP, "type": "supergroup", "title": "龙池花园居民群"})
LINKED_CHANNEL = ({"id": TELEGRAM_SERVICE, "is_bot": False, "first_name": "Telegram"},
                  {"id": CHANNEL, "type": "channel", "title": "龙池社区通知"})


@pytest.mark.parametrize("sender, sender_chat", [ANONYMOUS_ADMIN, LINKED_CHANNEL],
                         ids=["anonymous-admin", "linked-channel"])
async def test_messages_on_behalf_of_a_chat_change_nothing(
    run: TelegramRun, caplog: pytest.LogCaptureFixture, sender: dict, sender_chat: dict
) -> None:
    """Attack: in a group, an anonymous admin (from = GroupAnonymousBot, sender_chat = the group)
    or a linked channel's forward (from = 777000, not flagged as a bot) types 受理 1, 办结 1 …,
    /bindgroup and /menu. Expected: no person can be identified, so nothing is done: the ticket,
    its events, the dialogs and the group bindings are unchanged, no account is created for the
    stand-in sender, the group gets no answer, and each message is logged with the chat it
    claims to come from (never its text)."""
    await report(run)
    caplog.set_level(logging.INFO)
    before = await snapshot(run)
    targets = await query(run.app, "SELECT * FROM group_targets ORDER BY id")
    mark = len(run.fake.sent)
    texts = ["受理 1", "办结 1 已更换灯泡", "/bindgroup G01", "/menu"]
    for number, text in enumerate(texts, 900):
        run.fake.push_raw(group_message(text, sender, sender_chat, number))
    # The inbox is handled in order: once the canary is answered, the messages above were handled.
    run.fake.push_text(CANARY, "/help")
    await run.reply_to(CANARY, "使用说明", after=mark)
    assert await snapshot(run) == before
    assert not [m for m in run.fake.sent[mark:] if m.chat_id != CANARY]
    assert await query(run.app, "SELECT COUNT(*) FROM accounts WHERE external_id = ?", str(sender["id"])) == [(0,)]
    assert await query(run.app, "SELECT * FROM group_targets ORDER BY id") == targets
    for number in range(900, 900 + len(texts)):
        assert_logged(caplog, f"message {number}", f"chat {GROUP}", f"on behalf of chat {sender_chat['id']}",
                      never="灯泡")


# ---------------------------------------------------------------- forged button data


@pytest.mark.parametrize("data, answer, logged", [
    ("t:ack:abc", "请从选项中选择", "malformed data 't:ack:abc'"),
    ("t:ack:99999", "没有找到工单 #99999", "missing ticket 99999"),
    ("t:ack:²", "请从选项中选择", "malformed"),  # str.isdigit() is true, int() raises
    ("t:ack:" + "9" * 50, "请从选项中选择", "malformed"),  # beyond SQLite's INTEGER
    ("t:ack", "请从选项中选择", "malformed"),
    ("rate:1:satisfied", "没有找到这张工单", "rating of ticket 1"),  # the leader is not the reporter
    ("rate:²:satisfied", "请从选项中选择", "malformed"),
    ("rate:1:excellent", "请从选项中选择", "malformed"),
])
async def test_forged_button_data_changes_nothing(
    run: TelegramRun, caplog: pytest.LogCaptureFixture, data: str, answer: str, logged: str
) -> None:
    """Attack: the ticket's own leader sends forged callback data: a non-number, a ticket that does
    not exist, digits int() refuses, a number too big for SQLite, a missing id, a rating of a
    ticket that is not theirs. Expected: a polite answer (never the crash apology), nothing
    changed, and a WARNING naming the presser."""
    await report(run)
    caplog.set_level(logging.INFO)
    before = await snapshot(run)
    mark = len(run.fake.sent)
    run.fake.push_callback(LEADER, data, message_chat_id=LEADER)
    reply = await run.reply_to(LEADER, "", after=mark)
    assert answer in (reply.text or "") and "小差" not in (reply.text or "")
    assert await snapshot(run) == before
    # Handled at the first try: no handler error was recorded against the update.
    assert await query(run.app, "SELECT COUNT(*) FROM inbox WHERE error != ''") == [(0,)]
    assert_logged(caplog, "refused", logged, f"telegram:{LEADER}")


@pytest.mark.parametrize("action", [
    "press:my:²", "press:my:" + "9" * 40, "press:r:metoo:²", "press:su:²", "press:su:x:٣",
    "press:an:v:²", "press:m:x:²", "say:/start signup-²", "say:/start signup-" + "9" * 40,
])
async def test_forged_numbers_anywhere_get_an_answer_not_an_apology(app: App, action: str) -> None:
    """Fault: button data or deep links whose "number" is a superscript, an Arabic-Indic digit
    or 40 digits long (str.isdigit() accepts the first two, SQLite refuses the last).
    Expected: a normal refusal or menu, never a crash, and nothing written."""
    user = ChatUser(app, "forger")
    await user.say("/start")
    before = await all_tickets(app)
    kind, _, payload = action.partition(":")
    if kind == "press":
        await user.press_data(payload)
    else:
        await user.say(payload)
    assert user.text and "系统开了个小差" not in user.text
    assert await all_tickets(app) == before
