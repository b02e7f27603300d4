"""The operator's log and the console's own database, seen from the terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import ROOT, run_cli, write_config
from tests.e2e.test_crash_recovery import BotProcess
from tests.fakes.telegram_api import FakeTelegramAPI

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ", re.M)
# The address is exact, so no pick (issue 13); then 跳过 the flat, no phone, submit.
REPORT = ["/report", "1", "楼道灯坏了好几天了", "龙池花园3号楼", "1", "1", "1"]


def console(path: Path, *lines: str, args: tuple[str, ...] = ()) -> tuple[str, str]:
    result = run_cli("--config", str(path), "console", *args, stdin="\n".join([*lines, "/quit"]) + "\n")
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


@pytest.mark.timeout(90)
async def test_the_info_log_holds_no_library_chatter(fake: FakeTelegramAPI, tmp_path: Path) -> None:
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    assert await bot.stop() == 0
    assert bot.process is not None and bot.process.stderr is not None
    log = (await bot.process.stderr.read()).decode()
    assert "Telegram channel configured (polling)" in log  # the operator's own INFO lines stay
    assert "apscheduler" not in log and "Added job" not in log and "Scheduler started" not in log, log
    assert "HTTP Request" not in log and fake.token not in log


def test_console_logs_go_to_a_file_named_in_the_greeting(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    # A resident typing a staff command is refused and logged at INFO.
    out, err = console(path, "受理 1")
    log_file = tmp_path / "bot-console.log"
    assert f"日志写入 {log_file}" in out
    assert "是工作人员处理工单用的" in out
    assert not LOG_LINE.search(out) and not LOG_LINE.search(err), (out, err)
    assert "refused ticket command" in log_file.read_text(encoding="utf-8")


def test_run_without_a_channel_also_keeps_logs_out_of_the_conversation(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    result = run_cli("--config", str(path), "run", stdin="受理 1\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert not LOG_LINE.search(result.stdout) and not LOG_LINE.search(result.stderr), result.stderr
    assert "refused ticket command" in (tmp_path / "bot-console.log").read_text(encoding="utf-8")


def test_run_without_a_channel_reads_a_file_given_as_stdin(tmp_path: Path) -> None:
    """`bot run < file`: a regular file cannot be watched by the event loop (uvloop watched it and
    read nothing, so the resident saw no menu); it is read directly."""
    path = write_config(tmp_path)
    typed = tmp_path / "typed.txt"
    typed.write_text("菜单\n受理 1\n/quit\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG")}
    with typed.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "run"], stdin=stdin,
                                capture_output=True, text=True, cwd=str(ROOT), env=environ, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1. 微丰山" in result.stdout and "3. 微服务" in result.stdout, result.stdout
    assert "是工作人员处理工单用的" in result.stdout, result.stdout


@pytest.mark.parametrize("command", ["run", "console"])
def test_an_empty_stdin_that_is_no_pipe_ends_the_console(tmp_path: Path, command: str) -> None:
    """`bot run < /dev/null` (a service started with no tokens): /dev/null cannot be watched by the
    event loop either. uvloop aborted the process (-6) and asyncio's loop waited for ever; read
    directly, it ends at once."""
    path = write_config(tmp_path)
    environ = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG")}
    with open(os.devnull, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), command], stdin=stdin,
                                capture_output=True, text=True, cwd=str(ROOT), env=environ, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "控制台模式" in result.stdout, result.stdout


def test_the_console_names_its_database_and_an_invite_for_it_binds_there(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    out, _ = console(path)
    assert f"数据库 {tmp_path / 'bot-console.db'}" in out
    assert "fengshan-bot invite --console" in out and "/bind" in out
    real = run_cli("--config", str(path), "invite", "--grid", "G03")
    code = real.stdout.split("Telegram: /bind ")[1].split()[0]
    out, _ = console(path, f"/bind {code}", args=("--as", "resident:唐"))
    assert "邀请码无效" in out  # a code for the real database does not bind in the console's
    made = run_cli("--config", str(path), "invite", "--console", "--grid", "G03")
    assert made.returncode == 0, made.stderr
    assert "console: /bind" in made.stdout and str(tmp_path / "bot-console.db") in made.stdout
    code = made.stdout.split("console: /bind ")[1].split()[0]
    out, _ = console(path, f"/bind {code}", args=("--as", "resident:唐"))
    assert "绑定成功！您好，唐雨轩" in out


def test_stats_on_the_console_database(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    out, _ = console(path, *REPORT)
    assert "工单号 #1" in out
    on_console = run_cli("--config", str(path), "stats", "--console")
    assert on_console.returncode == 0, on_console.stderr
    assert "工单 1 件" in on_console.stdout
    real = run_cli("--config", str(path), "stats")
    assert "工单 0 件" in real.stdout


def test_standing_announcements_from_the_config_are_in_the_console_list(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    out, _ = console(path, "公告列表", args=("--as", "admin"))
    assert "太极拳教学本周六上午" in out and "本月主题党日活动" in out


def test_the_readme_console_example_reaches_a_leader_who_sees_the_flat_and_phone(tmp_path: Path) -> None:
    """The README's piped example, exactly as printed there: the resident's report with a flat
    number reaches the grid leader's card with the flat and the full phone (its handler may call)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"^printf '([^']*)' \| \.venv/bin/fengshan-bot console$", readme, re.M)
    assert example is not None, "the README's piped console example is missing"
    lines = example.group(1).encode().decode("unicode_escape").encode("latin-1").decode().splitlines()
    out, _ = console(write_config(tmp_path), *lines)
    card = out[out.index("【新工单 #1】"):]
    assert "地址：龙池花园3栋2单元302" in card and "电话：13812345678" in card, out
    assert "已受理工单 #1" in out and "您反映的问题 #1（水电维修）已由支部网格长" in out, out


def test_the_console_keeps_its_own_database_when_the_bot_runs_on_postgresql(tmp_path: Path) -> None:
    """With storage.url set, `run` uses the PostgreSQL server; the console (and `--console`
    commands) must still keep to their own SQLite file, so trying flows never writes fake
    residents into the real database. The URL names a loopback port nothing listens on: had the
    console gone there, it could not start."""
    def on_postgresql(data: dict) -> None:
        data["storage"]["url"] = "postgresql://fengshan@127.0.0.1:9/fengshan"

    path = write_config(tmp_path, on_postgresql)
    out, _ = console(path, *REPORT)
    assert "工单号 #1" in out, out
    assert (tmp_path / "bot-console.db").is_file()
    result = run_cli("--config", str(path), "stats", "--console")
    assert result.returncode == 0, result.stderr
