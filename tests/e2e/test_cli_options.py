"""The command line's options and answers as an operator meets them: where options go, what a
mistake says, what `--help` explains, and a pipe closed early."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from tests.conftest import ROOT
from tests.e2e.test_cli import run_cli, stderr_lines, write_config


def test_global_options_work_after_the_subcommand(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    checked = run_cli("check-config", "--config", str(path), "--log-level", "warning")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"{path}: OK")
    other = tmp_path / "other.db"
    invited = run_cli("invite", "--grid", "G01", "--config", str(path), "--database", str(other))
    assert invited.returncode == 0, invited.stderr
    with closing(sqlite3.connect(other)) as conn:
        assert conn.execute("SELECT person_id FROM invites").fetchall() == [("g01-leader",)]
    assert not (tmp_path / "bot.db").exists()


def test_a_missing_config_names_the_option_and_the_variable(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.yaml"), "check-config")
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert "nope.yaml" in lines[0] and "--config" in lines[0] and "BOT_CONFIG" in lines[0]


@pytest.mark.parametrize(("args", "env", "named"), [
    (("--log-level", "LOUD"), {}, "--log-level"),
    ((), {"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
])
def test_a_bad_log_level_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...],
                                                env: dict[str, str], named: str) -> None:
    path = write_config(tmp_path)
    result = run_cli("--config", str(path), *args, "check-config", env=env)
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert named in lines[0] and "INFO" in lines[0] and "Traceback" not in result.stderr


def test_invite_without_arguments_prints_its_usage(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    result = run_cli("--config", str(path), "invite")
    assert result.returncode == 2
    assert "usage: fengshan-bot invite" in result.stderr and "--grid" in result.stderr
    assert "--person" in result.stderr
    assert not (tmp_path / "bot.db").exists()


def test_invite_prints_when_the_code_expires_in_local_time(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    result = run_cli("--config", str(path), "invite", "--grid", "G07")
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(tmp_path / "bot.db")) as conn:
        (expires_at,) = conn.execute("SELECT expires_at FROM invites").fetchone()
    local = datetime.fromisoformat(expires_at).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"有效期至 valid until {local:%Y-%m-%d %H:%M} (Asia/Shanghai)" in result.stdout


HELP_SAYS = {
    "run": "every configured channel",
    "console": "in this terminal",
    "invite": "one-time code",
    "check-config": "every problem",
    "wechat-menu": "custom menu",
    "stats": "三率",
    "announce": "schedule an announcement",
    "announcements": "list the announcements",
    "backup": "online",
    "restore": "replace the database",
}


@pytest.mark.parametrize("command", sorted(HELP_SAYS))
def test_every_subcommand_help_says_what_it_does(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    shown = capsys.readouterr().out
    description = " ".join(shown.split("\n\n")[1].split())  # usage, description, options
    assert HELP_SAYS[command] in description.lower(), shown


def test_no_broken_pipe_traceback_when_the_reader_has_gone(tmp_path: Path) -> None:
    """`fengshan-bot announcements | head -1`: head exits after one line. Here the reading end
    is closed before the bot writes at all, so the first write meets the closed pipe."""
    path = write_config(tmp_path)
    made = run_cli("--config", str(path), "announce", "--text", "太极拳教学", "--when", "每周六 08:00")
    assert made.returncode == 0, made.stderr
    read_end, write_end = os.pipe()
    os.close(read_end)
    environ = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG")}
    try:
        result = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "announcements"],
                                stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
                                env=environ, timeout=60)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.stderr == ""
