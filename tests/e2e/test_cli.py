"""The command line as a user runs it: real processes, piped stdin, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        cwd=str(ROOT), env={**environ, **(env or {})}, timeout=60,
    )


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def write_config(folder: Path, mutate=None) -> Path:  # noqa: ANN001 - a small test helper
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["storage"] = {"database": str(folder / "bot.db")}
    data["http"] = {"host": "127.0.0.1", "port": 0}  # the workplace's server: a port of the OS's choosing
    if mutate:
        mutate(data)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_broken_config_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    def break_it(data: dict) -> None:
        data["grids"][5]["community"] = "langya"

    path = write_config(tmp_path, break_it)
    result = run_cli("--config", str(path), "run")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "grids[G06].community" in lines[0] and "langya" in lines[0]
    assert not list(tmp_path.glob("*.db*"))


def test_bot_config_env_picks_the_file_and_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8") + "\nstorage:\n  database: x.db\n",
                    encoding="utf-8")
    result = run_cli("check-config", env={"BOT_CONFIG": str(path)})
    assert result.returncode == 2
    assert "duplicate key 'storage'" in result.stderr


def test_run_without_token_opens_the_console_and_a_report_reaches_the_leader(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    script = "\n".join([
        "/report", "1", "楼道灯坏了好几天了", "龙池花园3号楼", "1", "1", "1",  # 跳过 the flat, no phone, submit
        "/as leader:G01", "1", "/quit",
    ]) + "\n"
    result = run_cli("--config", str(path), "run", stdin=script)
    assert result.returncode == 0, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "console" in result.stderr
    out = result.stdout
    assert "工单号 #1" in out
    assert "📨 发给 万秀英（g01-leader）" in out and "新工单 #1" in out
    assert "已受理工单 #1" in out
    assert "已由支部网格长 万秀英 受理" in out
    # The console keeps its own database beside the real one.
    assert (tmp_path / "bot-console.db").exists() and not (tmp_path / "bot.db").exists()


def test_invite_prints_a_code_and_a_deep_link(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda d: d.update(telegram={"bot_username": "weifengshan_bot"}))
    result = run_cli("--config", str(path), "invite", "--grid", "G07", "--role", "leader")
    assert result.returncode == 0, result.stderr
    code = next(line.split()[-1] for line in result.stdout.splitlines() if line.startswith("Telegram: /bind"))
    assert f"https://t.me/weifengshan_bot?start=bind-{code}" in result.stdout
    unknown = run_cli("--config", str(path), "invite", "--grid", "G99")
    assert unknown.returncode == 2 and "G99" in unknown.stderr


def test_announce_list_and_cancel_from_the_command_line(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    made = run_cli("--config", str(path), "announce", "--text", "太极拳教学，南湖公园", "--target", "nanqiao",
                   "--when", "每周六 08:00")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("公告 #1 已安排") and "0 8 * * sat" in made.stdout
    bad = run_cli("--config", str(path), "announce", "--text", "x", "--target", "G99", "--when", "立即")
    assert bad.returncode == 2 and "unknown target 'G99'" in bad.stderr
    past = run_cli("--config", str(path), "announce", "--text", "x", "--when", "2020-01-01 09:00")
    assert past.returncode == 2 and "--when" in past.stderr
    weekly = run_cli("--config", str(path), "announce", "--text", "x", "--when", "每周六 08:00",
                     "--signup", "30 12-06 09:00")
    assert weekly.returncode == 2 and "repeating" in weekly.stderr
    listed = run_cli("--config", str(path), "announcements")
    assert "#1 [active]" in listed.stdout and "community nanqiao" in listed.stdout
    assert "#2" not in listed.stdout  # the refused ones changed nothing
    cancelled = run_cli("--config", str(path), "announcements", "--cancel", "1")
    assert cancelled.returncode == 0 and "已取消" in cancelled.stdout
    assert "#1 [cancelled]" in run_cli("--config", str(path), "announcements").stdout
