"""`fengshan-bot check-config` as the person editing config.yaml reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_cli import run_cli, stderr_lines, write_config

PREFIX = "配置错误 config error: "


def test_check_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    def break_twice(data: dict) -> None:
        data["grids"][1]["community"] = "langya"
        data["grids"][2]["community"] = "nowhere"

    path = write_config(tmp_path, break_twice)
    result = run_cli("--config", str(path), "check-config")
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 2, result.stderr
    assert all(line.startswith(PREFIX) for line in lines)
    assert f"{path}: grids[G02].community: unknown community 'langya'" in lines[0]
    assert f"{path}: grids[G03].community: unknown community 'nowhere'" in lines[1]


def test_field_errors_are_all_reported_and_name_grids_by_id(tmp_path: Path) -> None:
    def break_fields(data: dict) -> None:
        data["grids"][3]["leaders"][0]["nickname"] = "老王"
        data["subdistrict"]["timezone"] = "Asia/Chuzhou"

    result = run_cli("--config", str(write_config(tmp_path, break_fields)), "check-config")
    assert result.returncode == 2
    text = "\n".join(stderr_lines(result))
    assert "grids[G04].leaders[0].nickname: unknown key" in text
    assert "subdistrict.timezone" in text and "Asia/Chuzhou" in text
    assert len(stderr_lines(result)) == 2, result.stderr


def test_a_tab_in_the_indentation_is_explained_with_its_line(tmp_path: Path) -> None:
    lines = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line == "    name: 龙池花园第一网格")
    lines[index] = "\tname: 龙池花园第一网格"
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("--config", str(path), "check-config")
    assert result.returncode == 2
    shown = stderr_lines(result)
    assert len(shown) == 1, result.stderr
    assert f"line {index + 1}" in shown[0]
    assert "YAML 不允许用 Tab 缩进，请改用空格" in shown[0]


@pytest.mark.parametrize("written", ["5号楼", "５栋", "五栋", "5幢", " 5 栋"])
def test_the_same_building_written_another_way_in_another_grid_is_refused(
        tmp_path: Path, written: str) -> None:
    # G01 has 龙池花园 5栋; G02 covers another part of 龙池花园.
    path = write_config(tmp_path, lambda d: d["grids"][1]["compounds"][0]["buildings"].append(written))
    result = run_cli("--config", str(path), "check-config")
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert "grids[G02].compounds[0].buildings[8]" in lines[0] and "duplicate building" in lines[0]
    assert "grids[G01].compounds[0].buildings[4]" in lines[0] and "5栋" in lines[0]
    assert written.strip() in lines[0]


def test_the_shipped_config_passes_and_a_new_building_number_is_fine(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda d: d["grids"][1]["compounds"][0]["buildings"].append("二十五栋"))
    result = run_cli("--config", str(path), "check-config")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: OK (39 grids")
