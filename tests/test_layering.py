"""Flows and storage stay channel-neutral: no platform library below handlers/ or storage/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = {"telegram", "wechatpy", "aiohttp", "defusedxml"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", ["handlers", "storage"])
def test_no_platform_library_is_imported(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert files
    offenders = {f.name: imported_roots(f) & PLATFORM_LIBRARIES for f in files}
    assert {name: libs for name, libs in offenders.items() if libs} == {}
