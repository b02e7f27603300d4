"""我也遇到 end to end (issue 10, holes 1–3): who may follow a ticket, what the duplicate hint
shows a neighbour, and what a follower is told as the ticket moves.

The real bot runs against the fake Bot API on 127.0.0.1. Each test states the attack and asserts
what the people involved see and what the database holds.
"""

from __future__ import annotations

from bot.bootstrap import build_scheduler
from storage.clock import FakeClock
from tests.chat import query
from tests.fakes.telegram_api import SentMessage
from tests.telegram_harness import TelegramRun

REPORTER = 1001  # files #1 in 龙池花园3栋 (grid G01)
NEIGHBOUR = 1002  # same building
STRANGER = 1003  # 龙池花园9栋, another grid
LEADER = 2001  # g01-leader

# What the reporter typed about herself, and what the leader wrote back about her.
PRIVATE_DESCRIPTION = "3栋楼道灯坏了，我是王女士，电话13812345678，住3栋2单元301"
PRIVATE_WORDS = ("王女士", "13812345678", "138****5678", "2单元301", "已回访", "说是9栋", "还是不亮")


async def reach_summary(run: TelegramRun, user: int, building: str = "3", *,
                        description: str = "楼道的灯又不亮了") -> SentMessage:
    """/report in 龙池花园<building>栋, 水电维修, no phone: the summary the resident is shown."""
    fake, mark = run.fake, len(run.fake.sent)
    fake.push_text(user, "/report")
    await run.reply_to(user, "问题类别", after=mark)
    await run.press(user, "水电维修")
    await run.reply_to(user, "描述问题", after=mark)
    fake.push_text(user, description)
    await run.reply_to(user, "哪个社区", after=mark)
    fake.push_text(user, f"龙池花园{building}号楼")
    await run.reply_to(user, "单元和门牌号", after=mark)  # issue 13: the flat, optional
    await run.press(user, "跳过")
    await run.reply_to(user, "留个电话", after=mark)
    await run.press(user, "不留电话")
    return await run.reply_to(user, "请确认", after=mark)


async def followers(run: TelegramRun) -> list[tuple]:
    return await query(run.app, "SELECT ticket_id, resident_id FROM ticket_followers")


# ---------------------------------------------------------------- 1. following a ticket


async def test_a_forged_me_too_for_a_ticket_not_offered_changes_nothing(run: TelegramRun) -> None:
    """Attack: a resident reporting in another building (no 我也遇到 offered) sends the summary's
    button data r:metoo:1 for ticket #1 of 龙池花园3栋. Expected: a polite refusal, still at the
    summary; no follower row, no follower_added event, no notice to the leader, and none of #1's
    later steps reach the presser."""
    await run.bind(LEADER, "g01-leader")
    await run.file_report(REPORTER, PRIVATE_DESCRIPTION)
    summary = await reach_summary(run, STRANGER, "9")
    assert "类似反映" not in (summary.text or "")
    mark = len(run.fake.sent)
    run.fake.push_callback(STRANGER, "r:metoo:1", message_id=summary.message_id)
    refusal = await run.reply_to(STRANGER, "", after=mark)
    assert "不在" in (refusal.text or "") and "已记录" not in (refusal.text or ""), refusal.text
    await run.reply_to(STRANGER, "请确认", after=mark)  # the summary again, to carry on
    assert await followers(run) == []
    assert await query(run.app, "SELECT COUNT(*) FROM ticket_events WHERE action = 'follower_added'") == [(0,)]
    assert await query(run.app, "SELECT flow, step FROM dialogs WHERE user_id = ?", str(STRANGER)) == [
        ("report", "summary")]
    mark = len(run.fake.sent)
    run.fake.push_text(LEADER, "办结 1 王女士电话13812345678已回访")
    await run.reply_to(REPORTER, "已办结", after=mark)
    # Written in the transaction that wrote the reporter's notice: none for the presser.
    assert await query(run.app, "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND ticket_id = 1",
                       str(STRANGER)) == [(0,)]
    assert [m.text for m in run.fake.sent[mark:] if m.chat_id == STRANGER and "#1" in (m.text or "")] == []
    assert not [m for m in run.fake.messages_to(LEADER) if "又有一位居民" in (m.text or "")]


async def test_the_offered_me_too_still_works(run: TelegramRun) -> None:
    """The legitimate path: the neighbour in the same building presses the offered 我也遇到 #1."""
    await run.file_report(REPORTER, PRIVATE_DESCRIPTION)
    await reach_summary(run, NEIGHBOUR)
    mark = len(run.fake.sent)
    await run.press(NEIGHBOUR, "我也遇到 #1")
    await run.reply_to(NEIGHBOUR, "已记录：您也遇到了 #1", after=mark)
    assert len(await followers(run)) == 1


# ---------------------------------------------------------------- 2. the duplicate hint


async def test_the_duplicate_hint_shows_no_neighbours_words(run: TelegramRun, clock: FakeClock) -> None:
    """Attack: a neighbour starts a report in the same building and category as #1, whose
    description holds the reporter's name, phone and flat. Expected: the hint names #1 by
    category, local time (Asia/Shanghai) and state only; nothing the reporter typed reaches the
    neighbour."""
    clock.advance(hours=4, minutes=5)  # 06:05 UTC: 14:05 in Chuzhou
    await run.file_report(REPORTER, PRIVATE_DESCRIPTION + " <b>x</b>")
    summary = await reach_summary(run, NEIGHBOUR)
    text = summary.text or ""
    assert "同一楼栋已有类似反映" in text
    assert "#1 水电维修｜11月26日 14:05 反映｜待受理" in text, text
    shown = "\n".join(m.text or "" for m in run.fake.messages_to(NEIGHBOUR))
    for fragment in ("王女士", "电话138", "2单元301", "楼道灯坏了", "<b>"):
        assert fragment not in shown, (fragment, text)


# ---------------------------------------------------------------- 3. what followers are told


async def test_followers_get_a_followers_notice_on_every_step(run: TelegramRun, clock: FakeClock) -> None:
    """Attack: a neighbour follows #1 the legitimate way (我也遇到) and waits. The leader's
    受理, 办结 note (「王女士电话…已回访，她家住3栋2单元301」), the reporter's 不满意 with her reason
    (「王女士家的灯还是不亮」), a 转派 with a
    reason about her, the deadline sweep's 吹哨 and her erasure (我的数据 → 删除) follow.
    Expected: the reporter gets the note (phone masked); the follower gets one notice per step,
    in a follower's words (「您也遇到的问题 #1 …」), with the state change only: no note, no reason,
    nothing the reporter typed, no rating buttons."""
    await run.bind(LEADER, "g01-leader")
    await run.file_report(REPORTER, PRIVATE_DESCRIPTION)
    await reach_summary(run, NEIGHBOUR)
    start = len(run.fake.sent)
    await run.press(NEIGHBOUR, "我也遇到 #1")
    await run.reply_to(NEIGHBOUR, "已记录", after=start)

    async def step(reporter_sees: str, text: str = "", press: str = "", says: str = "") -> None:
        """The leader types `text` (or the reporter presses `press` or types `says`, or the
        sweep runs); the reporter's notice, then the follower's, arrive."""
        mark = len(run.fake.sent)
        if text:
            run.fake.push_text(LEADER, text)
        elif says:
            run.fake.push_text(REPORTER, says)
        elif press:
            await run.press(REPORTER, press)
        else:
            await build_scheduler(run.app).run_due()
        await run.reply_to(REPORTER, reporter_sees, after=mark)
        await run.fake.wait_for(lambda m: m.chat_id == NEIGHBOUR and "#1" in (m.text or ""), after=mark)

    await step("已由支部网格长 万秀英 受理", "受理 1")
    await step("已办结", "办结 1 王女士电话13812345678已回访，她家住3栋2单元301")
    mark = len(run.fake.sent)
    await run.press(REPORTER, "不满意")
    await run.reply_to(REPORTER, "哪里不满意", after=mark)
    await step("重新交办", says="王女士家的灯还是不亮")
    await step("已转交", "转派 1 G02 王女士13812345678说是9栋的")
    clock.advance(hours=3)  # past G02's 2-hour 受理 window: the sweep's 吹哨
    await step("未在时限内受理")
    mark = len(run.fake.sent)
    run.fake.push_text(REPORTER, "/mydata")
    await run.reply_to(REPORTER, "我的数据", after=mark)
    await run.press(REPORTER, "删除我的数据")
    await run.reply_to(REPORTER, "确定要删除", after=mark)
    await run.press(REPORTER, "确认删除")
    await run.reply_to(REPORTER, "已删除您的个人信息", after=mark)
    await run.fake.wait_for(lambda m: m.chat_id == NEIGHBOUR and "撤销" in (m.text or ""), after=mark)

    notices = [m for m in run.fake.sent[start:] if m.chat_id == NEIGHBOUR and "#1" in (m.text or "")
               and "已记录" not in (m.text or "")]
    texts = [m.text or "" for m in notices]
    assert len(texts) == 6, texts  # 受理, 办结, 重新办理, 转派, 吹哨, 撤销
    for text in texts:
        assert text.startswith("您也遇到的问题 #1"), text
        assert not [w for w in PRIVATE_WORDS if w in text], text
    assert all(m.buttons == [] for m in notices)
    assert "已办结" in texts[1] and "已转交" in texts[3] and "已上报" in texts[4]
    # The reporter gets the note, with phone numbers masked as everywhere.
    resolved = [m.text or "" for m in run.fake.messages_to(REPORTER) if "已办结：" in (m.text or "")][-1]
    assert "已回访" in resolved and "138****5678" in resolved and "13812345678" not in resolved
