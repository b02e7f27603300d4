"""Where the command line reads and writes database files: a typed path is never a new folder."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import run_cli, stderr_lines, write_config


def test_backup_into_a_missing_folder_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    assert run_cli("--config", str(path), "invite", "--grid", "G01").returncode == 0
    typo = tmp_path / "bakcups" / "fengshan.db"
    result = run_cli("--config", str(path), "backup", str(typo))
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert str(typo.parent) in lines[0] and "does not exist" in lines[0]
    assert not typo.parent.exists()
    (tmp_path / "backups").mkdir()
    made = run_cli("--config", str(path), "backup", str(tmp_path / "backups" / "fengshan.db"))
    assert made.returncode == 0, made.stderr
    assert "integrity ok" in made.stdout


def test_a_database_in_a_missing_folder_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    typo = tmp_path / "dtaa" / "bot.db"
    for args in (("invite", "--grid", "G01"), ("stats",), ("console",), ("announcements",)):
        result = run_cli("--database", str(typo), "--config", str(path), *args, stdin="/quit\n")
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = stderr_lines(result)
        assert len(lines) == 1, (args, result.stderr)
        assert "--database" in lines[0] and str(typo.parent) in lines[0] and "does not exist" in lines[0]
    assert not typo.parent.exists()


def test_restore_of_a_folder_says_it_is_a_folder(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    result = run_cli("--config", str(path), "restore", str(folder))
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert f"{folder} is a folder" in lines[0]
    assert not (tmp_path / "bot.db").exists()
