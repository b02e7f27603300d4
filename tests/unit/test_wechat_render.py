"""WeChat text rendering: numbered options, inert markup, the 2048-byte limit."""

from __future__ import annotations

import pytest

from bot.channels.splitters import split_for_channel
from bot.channels.wechat.render import TEXT_LIMIT_BYTES, render_texts, split_utf8
from handlers.texts import ZH, Texts
from handlers.types import Channel, Option, Reply

TEXTS = Texts(ZH)


@pytest.mark.parametrize("text", ["丰" * 5000, "a" * 4097, ("网格😀\n" * 900), "x\n" * 3000])
def test_pieces_fit_and_no_character_is_cut(text: str) -> None:
    pieces = split_utf8(text)
    assert all(len(p.encode()) <= TEXT_LIMIT_BYTES for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_cuts_prefer_line_ends() -> None:
    lines = [f"第{n}行：" + "灯" * 100 for n in range(30)]
    pieces = split_utf8("\n".join(lines))
    assert len(pieces) > 1
    assert all(piece.split("\n")[-1] in lines for piece in pieces)


def test_options_of_all_replies_are_numbered_once() -> None:
    rendered = render_texts([Reply("已受理工单 #3。", options=(Option("办结", "t:res:3"),)),
                             Reply("还有一个问题：", options=(Option("返回", "nav:back"), Option("取消", "nav:cancel")))],
                            TEXTS)
    assert rendered.pieces == ("已受理工单 #3。\n\n还有一个问题：\n\n1. 办结\n2. 返回\n3. 取消\n回复 1–3 选择",)
    assert rendered.options == (("办结", "t:res:3"), ("返回", "nav:back"), ("取消", "nav:cancel"))


def test_markup_in_text_stays_inert_and_links_are_plain() -> None:
    rendered = render_texts([Reply('<a href="http://evil">点我</a>', link="https://t.me/x", link_label="打开")],
                            TEXTS)
    assert "<a" not in rendered.pieces[0] and "＜a href" in rendered.pieces[0]
    assert "打开：https://t.me/x" in rendered.pieces[0]


def test_long_wechat_rows_leave_room_for_the_options() -> None:
    reply = Reply("描述：" + "灯" * 2000, options=(Option("受理", "t:ack:1"), Option("办结", "t:res:1")))
    rows = split_for_channel(Channel.WECHAT, reply)
    assert len(rows) > 1 and rows[-1].options == reply.options and not rows[0].options
    for row in rows:
        assert all(len(piece.encode()) <= TEXT_LIMIT_BYTES for piece in render_texts([row], TEXTS).pieces)
        assert len(render_texts([row], TEXTS).pieces) == 1
