"""How resident text and names are shown to other people (issue 10, weak points 5–7): phone and
ID numbers in any common form are masked, resident text cannot pose as a card line, and a name
is one short line.

The real bot runs against the fake Bot API (and, for one check, signed WeChat callbacks) on
127.0.0.1; the masking table runs the one masking function on real-world forms.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from handlers.formatting import mask_numbers
from storage.clock import FakeClock
from tests.chat import query
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.telegram_api import SentMessage
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.telegram_harness import TelegramRun
from tests.wechat_harness import WeChatRun, start_wechat

REPORTER = 1001
LEADER = 2001  # g01-leader: the grid of 龙池花园3栋
ADMIN = 9001  # sd-admin-1
HIDDEN = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
          "\u200e", "\u200f", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
FIELDS = ("类别：", "描述：", "地址：", "电话：")


# ---------------------------------------------------------------- 5. masking


@pytest.mark.parametrize("typed, shown", [
    ("电话13812345678", "电话138****5678"),
    ("电话 138 1234 5678 找我", "电话 138****5678 找我"),
    ("138-1234-5678", "138****5678"),
    ("138.1234.5678", "138****5678"),
    ("138 - 1234 - 5678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),  # full-width
    ("１３８　１２３４　５６７８", "138****5678"),  # full-width, ideographic spaces
    ("+8613912345678", "139****5678"),
    ("+86 139 1234 5678", "139****5678"),
    ("＋８６ １３９１２３４５６７８", "139****5678"),
    ("0086-139-1234-5678", "139****5678"),
    ("(+86)13912345678", "(+86)139****5678"),
    ("手机：13812345678，13912345678。", "手机：138****5678，139****5678。"),
    ("138 1234 5678 和 139-1234-5678", "138****5678 和 139****5678"),
    ("13812345678 3栋", "138****5678 3栋"),
    ("身份证11010519491231002X", "身份证110*************2X"),
    ("110105 19491231 002X", "110*************2X"),
    ("110105-1949-1231-002x", "110*************2x"),
    ("１１０１０５１９４９１２３１００２Ｘ", "110*************2X"),
    ("110105194912310021", "110*************21"),
    # Left as typed: landlines, flats, dates, too short or too long to be a mobile or an ID.
    ("0550-3012345", "0550-3012345"),
    ("(0550) 301 2345", "(0550) 301 2345"),
    ("3栋2单元301", "3栋2单元301"),
    ("2026-11-28 14:05", "2026-11-28 14:05"),
    ("12345678901", "12345678901"),
    ("138123456789", "138123456789"),
])
def test_masking_table(typed: str, shown: str) -> None:
    """Forms residents really type: spaced, dashed, dotted, full-width, with +86 / 0086, and ID
    numbers in groups; each is masked as the phone field is, and nothing else changes."""
    assert mask_numbers(typed) == shown


def test_hidden_characters_inside_a_number_do_not_hide_it() -> None:
    from handlers.rendering import resident_text  # the module this issue adds

    assert resident_text("138\u200b1234\u2060 5678") == "138****5678"


def digits_of(text: str) -> str:
    """Every digit of a message in order, full-width ones as ASCII, separators dropped."""
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())


async def test_numbers_in_any_form_reach_the_leader_masked(run: TelegramRun) -> None:
    """Attack (by accident, usually): a resident types her phone and ID number into the
    description and into 补充信息 spaced, dashed, full-width and with +86. Expected: the card
    and the 补充信息 notice the leader receives show every one masked."""
    await run.bind(LEADER, "g01-leader")
    mark = await run.file_report(REPORTER, "灯坏了，电话138 1234 5678，或＋８６ １３９１２３４５６７８，"
                                           "身份证110105 19491231 002X")
    card = await run.reply_to(LEADER, "新工单 #1", after=mark)
    mark = len(run.fake.sent)
    run.fake.push_text(REPORTER, "/mytickets")
    await run.reply_to(REPORTER, "最近的工单", after=mark)
    await run.press(REPORTER, "#1")
    await run.reply_to(REPORTER, "工单 #1", after=mark)
    await run.press(REPORTER, "补充信息")
    await run.reply_to(REPORTER, "请发送要补充的", after=mark)
    run.fake.push_text(REPORTER, "备用 139-1234-5678 / +8613712345678 / １３６．１２３４．５６７８")
    info = await run.reply_to(LEADER, "补充信息", after=mark)
    # The card's own phone field is the handler's to call (issue 13); what was typed stays masked.
    assert "电话：13812345678" in (card.text or "")
    card_typed = (card.text or "").replace("电话：13812345678", "")
    for text in (card_typed, info.text or ""):
        digits = digits_of(text)
        for secret in ("1234567", "19491231", "0519"):
            assert secret not in digits, (secret, text)
    assert card_typed.count("****5678") == 2 and "110*************2X" in (card.text or "")
    assert (info.text or "").count("****5678") == 3, info.text


async def test_a_typed_phone_in_full_width_or_with_86_is_accepted(run: TelegramRun) -> None:
    """The phone step takes the same forms (stored as 11 ASCII digits, shown masked)."""
    mark = await run.file_report(REPORTER, "楼道灯坏了", phone="＋８６ １３８-１２３４-５６７８")
    await run.reply_to(REPORTER, "已提交", after=mark)
    assert await query(run.app, "SELECT phone FROM tickets") == [("13812345678",)]


# ---------------------------------------------------------------- 6. forged card lines

FORGED = ("楼道灯坏了\u200b\n地址：清流苑1栋（清流苑第一网格）\n电话：139****0000\u2028类别：矛盾化解\n"
          "\u202e请尽快处理\u202c\u2066！\u2069\ufeff")


def assert_no_forged_lines(message: SentMessage) -> None:
    """Each field label starts at most one line, and nothing hidden is left in the text."""
    text = message.text or ""
    assert not [c for c in HIDDEN if c in text], text.encode("unicode_escape")
    lines = text.splitlines()
    for label in FIELDS:
        assert len([line for line in lines if line.startswith(label)]) <= 1, (label, text)
    assert not [line for line in lines if line.startswith("【")][1:], text


async def test_a_description_cannot_pose_as_card_lines(run: TelegramRun) -> None:
    """Attack: a description ending in 「⏎地址：…⏎电话：…」 (and a U+2028 line separator, which
    Telegram shows as a line break), with bidi overrides and zero-width characters. Expected: on
    the leader's card, the /tickets list, the resident's own summary and 我的工单, the resident's
    lines stay inside the description, each continuation line quoted with 「  ｜」, and the
    controls are gone; the real 地址 and 电话 lines are the only ones."""
    await run.bind(LEADER, "g01-leader")
    mark = await run.file_report(REPORTER, FORGED)
    card = await run.reply_to(LEADER, "新工单 #1", after=mark)
    text = card.text or ""
    assert_no_forged_lines(card)
    assert [line for line in text.splitlines() if line.startswith("地址：")] == ["地址：龙池花园3栋（龙池花园第一网格）"]
    assert [line for line in text.splitlines() if line.startswith("电话：")] == ["电话：13812345678"]  # issue 13: the handler sees it
    assert "\n  ｜地址：清流苑1栋（清流苑第一网格）\n  ｜电话：139****0000\n  ｜类别：矛盾化解" in text, text
    summary = [m for m in run.fake.messages_to(REPORTER) if "请确认" in (m.text or "")][-1]
    assert_no_forged_lines(summary)

    mark = len(run.fake.sent)
    run.fake.push_text(LEADER, "/tickets")
    listed = await run.reply_to(LEADER, "【待受理 #1】", after=mark)  # /tickets titles by state (issue 13)
    assert_no_forged_lines(listed)
    run.fake.push_text(REPORTER, "/mytickets")
    await run.reply_to(REPORTER, "最近的工单", after=mark)
    await run.press(REPORTER, "#1")
    await run.reply_to(REPORTER, "处理记录", after=mark)
    await run.press(REPORTER, "补充信息")
    await run.reply_to(REPORTER, "请发送要补充的", after=mark)
    run.fake.push_text(REPORTER, "补充\n【新工单 #9】\n地址：清流苑1栋\u202e")
    info = await run.reply_to(LEADER, "补充信息", after=mark)
    assert_no_forged_lines(info)
    assert (info.text or "").endswith("补充\n  ｜【新工单 #9】\n  ｜地址：清流苑1栋"), info.text
    mark = len(run.fake.sent)
    await run.press(REPORTER, "#1")
    detail = await run.reply_to(REPORTER, "处理记录", after=mark)
    assert_no_forged_lines(detail)
    assert "\n  ｜地址：清流苑1栋" in (detail.text or "")


async def test_a_description_cannot_pose_as_card_lines_on_wechat(
    config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
    session: aiohttp.ClientSession,
) -> None:
    """The same attack from a WeChat resident: the card pushed to a WeChat leader is the same."""
    resident, leader = "oResident0000000000000001", "oLeader00000000000000000001"
    run: WeChatRun = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    try:
        wx = run.platform
        assert "绑定成功" in (await run.bind(leader, "g01-leader")).text
        answer = await wx.click(resident, "i:report")
        answer = await wx.text(resident, option_number(answer.text, "水电维修"))
        answer = await wx.text(resident, FORGED)
        assert "哪个社区" in answer.text, answer
        answer = await wx.text(resident, "龙池花园3号楼")
        answer = await wx.text(resident, option_number(answer.text, "跳过"))  # issue 13: the flat
        answer = await wx.text(resident, "13812345678")
        answer = await wx.text(resident, option_number(answer.text, "提交"))
        assert "工单号 #1" in answer.text, answer
        card = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == leader
                                          and "新工单 #1" in str(c.body))
        assert card.body is not None
        content = card.body["text"]["content"]
        assert not [c for c in HIDDEN if c in content], content.encode("unicode_escape")
        lines = content.splitlines()
        assert [line for line in lines if line.startswith("地址：")] == ["地址：龙池花园3栋（龙池花园第一网格）"]
        assert [line for line in lines if line.startswith("电话：")] == ["电话：13812345678"]  # issue 13: the handler sees it
        assert "\n  ｜地址：清流苑1栋" in content
    finally:
        await run.close()


# ---------------------------------------------------------------- 7. names

FORGED_NAME = "张三\n2. 李四\u202e\n3. 王五\u200b"
LONG_NAME = "欧阳" + "很长" * 40


async def schedule_signup(run: TelegramRun) -> int:
    """sd-admin-1 schedules 「爱心义剪」 for tomorrow 09:00 with 5 places; its number."""
    await run.bind(ADMIN, "sd-admin-1")
    fake, mark = run.fake, len(run.fake.sent)
    fake.push_text(ADMIN, "/announce")
    await run.reply_to(ADMIN, "公告内容", after=mark)
    fake.push_text(ADMIN, "爱心义剪")
    await run.reply_to(ADMIN, "发到哪些群", after=mark)
    await run.press(ADMIN, "全部群")
    await run.reply_to(ADMIN, "什么时候发送", after=mark)
    fake.push_text(ADMIN, "明天 09:00")
    await run.reply_to(ADMIN, "需要报名吗", after=mark)
    fake.push_text(ADMIN, "5 明天 15:00")
    await run.reply_to(ADMIN, "请确认公告", after=mark)
    await run.press(ADMIN, "确认发布")
    scheduled = await run.reply_to(ADMIN, "已安排", after=mark)
    found = re.search(r"公告 #(\d+)", scheduled.text or "")
    assert found, scheduled.text
    return int(found[1])


async def test_a_name_typed_at_sign_up_stays_one_plain_line(run: TelegramRun) -> None:
    """Attack (issue 13): at the sign-up's name-and-phone step a resident types a name with line
    breaks, a bidi override and HTML. Expected: the organiser's list has one row for them, the
    markup shown as typed, sent without a parse mode; the phone given is there in full for the
    organiser and masked in the resident's own answer."""
    announcement = await schedule_signup(run)
    mark = len(run.fake.sent)
    run.fake.push_text(1103, f"报名 {announcement}", first_name="赵六")
    await run.reply_to(1103, "请留下姓名和电话", after=mark)
    run.fake.push_text(1103, "赵六\n2. 假名单\u202e <b>管理员</b> 13812345678")
    done = await run.reply_to(1103, "报名成功", after=mark)
    assert "138****5678" in (done.text or "") and "13812345678" not in (done.text or "")
    mark = len(run.fake.sent)
    run.fake.push_callback(ADMIN, f"su:l:{announcement}")
    listing = await run.reply_to(ADMIN, "报名 1/5 人", after=mark)
    assert (listing.text or "").splitlines()[1:] == ["1. 赵六 2. 假名单 <b>管理员</b> 13812345678"], listing.text
    assert listing.parse_mode is None


async def test_a_name_cannot_add_rows_to_the_sign_up_list(run: TelegramRun) -> None:
    """Attack: a Telegram first name 「张三⏎2. 李四⏎3. 王五」 (with a bidi override and a
    zero-width space) signs up, and so does an 82-character name. Expected: the organiser's
    list has exactly two rows; the first name is one line with the controls gone, the long one
    is cut at 32 characters with 「…」; the residents table holds the same one-line names."""
    announcement = await schedule_signup(run)
    for user, name in ((1101, FORGED_NAME), (1102, LONG_NAME)):
        mark = len(run.fake.sent)
        run.fake.push_text(user, f"报名 {announcement}", first_name=name)
        await run.reply_to(user, "请留下姓名和电话", after=mark)  # issue 13: asked, and skippable
        await run.press(user, "跳过")
        await run.reply_to(user, "报名成功", after=mark)
    mark = len(run.fake.sent)
    run.fake.push_callback(ADMIN, f"su:l:{announcement}")
    listing = (await run.reply_to(ADMIN, "报名 2/5 人", after=mark)).text or ""
    rows = listing.splitlines()[1:]
    short = LONG_NAME[:31] + "…"
    assert rows == ["1. 张三 2. 李四 3. 王五", f"2. {short}"], listing
    assert not [c for c in HIDDEN if c in listing]
    assert await query(run.app, "SELECT display_name FROM residents WHERE display_name != ''"
                                " AND id IN (SELECT resident_id FROM accounts WHERE external_id IN"
                                " ('1101', '1102')) ORDER BY id") == [("张三 2. 李四 3. 王五",), (short,)]
