"""The console takes the stored-intake path of every channel: each typed line is an inbox item,
handled behind the flood guard, and everything the terminal shows was an outbox row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from handlers.texts import ZH, Texts
from tests.e2e.test_cli import run_cli, write_config
from tests.e2e.test_cli_console import REPORT

RESIDENT = "resident:居民"  # the console's default identity


def console(path: Path, *lines: str) -> str:
    result = run_cli("--config", str(path), "console", stdin="\n".join([*lines, "/quit"]) + "\n")
    assert result.returncode == 0, result.stderr
    return result.stdout


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_each_line_is_an_inbox_item_and_each_answer_an_outbox_row(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    out = console(path, *REPORT)
    assert "已提交" in out
    db = tmp_path / "bot-console.db"
    stored = rows(db, "SELECT channel, status, sender FROM inbox ORDER BY id")
    assert stored == [("console", "done", RESIDENT)] * len(REPORT)
    answers = rows(db, "SELECT status, payload FROM outbox WHERE channel = 'console' AND chat_id = 'resident:居民'"
                       " AND kind = 'reply' ORDER BY id")
    assert len(answers) >= len(REPORT) and {status for status, _ in answers} == {"sent"}
    assert any("已提交" in payload for _, payload in answers)


def test_a_second_session_stores_its_lines_beside_the_first(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    console(path, "你好")
    console(path, "你好")
    db = tmp_path / "bot-console.db"
    assert [status for (status,) in rows(db, "SELECT status FROM inbox")] == ["done", "done"]


def test_the_console_is_behind_the_flood_guard(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    notice = Texts(ZH).t("flood_notice")
    out = console(path, *["你好"] * 22)
    assert out.count(notice) == 1  # the 21st line gets the notice, the 22nd silence
    held = rows(tmp_path / "bot-console.db", "SELECT COUNT(*) FROM inbox WHERE error = 'flood-limited'")
    assert held == [(2,)]


def test_a_typed_option_label_works_where_its_number_does(tmp_path: Path) -> None:
    """Issue 13: people type what they read. 「不留电话」 and 「提交」 typed in full are the options,
    not a wrong phone number and a 「请从选项中选择」."""
    path = write_config(tmp_path)
    out = console(path, "/report", "1", "楼道灯坏了好几天了", "龙池花园3号楼", "跳过", "不留电话", "提交")
    assert "已提交" in out
    assert rows(tmp_path / "bot-console.db", "SELECT description FROM tickets") == [("楼道灯坏了好几天了",)]


def test_a_voice_joins_the_report_and_reaches_the_leader(tmp_path: Path) -> None:
    """Issue 13 (适老化): `/voice NAME` plays a voice message without a transcript: it joins the
    report, the summary counts it, and the leader's card is followed by the recording."""
    path = write_config(tmp_path)
    out = console(path, "/report", "1", "/voice 门口录音", *REPORT[2:-1], "1", "/as leader:G01")
    assert "已收到语音（共 1 条）" in out and "照片：0 张，语音 1 条" in out
    assert "[语音 门口录音] 工单 #1 的语音" in out
