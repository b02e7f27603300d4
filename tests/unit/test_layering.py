"""Arrows point one way: bot → handlers → storage. Flows and storage stay channel-neutral (no
platform library below bot/), the engine knows no channel, and every subpackage is walked."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.config import load_config
from handlers.domain.model import Config as SubdistrictModel

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = {"telegram", "wechatpy", "aiohttp", "defusedxml"}
# (package, a package it must not import): only downward arrows are allowed.
UPWARD = [("handlers", "bot"), ("storage", "bot"), ("storage", "handlers")]


def python_files(package: str) -> list[Path]:
    """Every module of the package, subpackages included (handlers/domain/…, storage/…)."""
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of `from … import`, relative imports included."""
    if node.level == 0:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(path: Path) -> Iterator[str]:
    """Every module a file imports, anywhere in it (also inside functions, TYPE_CHECKING blocks
    and importlib.import_module("…") calls); `from a import b` yields both a and a.b."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                yield node.args[0].value


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def offenders(package: str, forbidden: str) -> dict[str, list[str]]:
    found = {str(f.relative_to(ROOT)): sorted({m for m in imported_modules(f) if within(m, forbidden)})
             for f in python_files(package)}
    return {name: modules for name, modules in found.items() if modules}


@pytest.mark.parametrize(("package", "forbidden"), UPWARD)
def test_no_import_points_upwards(package: str, forbidden: str) -> None:
    assert offenders(package, forbidden) == {}


def test_the_engine_imports_no_channel() -> None:
    engine = ROOT / "bot" / "engine.py"
    assert sorted({m for m in imported_modules(engine) if within(m, "bot.channels")}) == []


@pytest.mark.parametrize("package", ["handlers", "storage"])
def test_no_platform_library_is_imported(package: str) -> None:
    found = {str(f.relative_to(ROOT)): {m.split(".")[0] for m in imported_modules(f)} & PLATFORM_LIBRARIES
             for f in python_files(package)}
    assert {name: libs for name, libs in found.items() if libs} == {}


def test_the_walk_sees_subpackages_and_resolves_relative_imports() -> None:
    assert "handlers.domain.model" in {module_name(f) for f in python_files("handlers")}
    nested = ROOT / "handlers" / "domain" / "model.py"
    assert _resolve(nested, ast.ImportFrom(module="base", names=[], level=1)) == "handlers.domain.base"
    assert _resolve(nested, ast.ImportFrom(module="types", names=[], level=2)) == "handlers.types"
    assert within("bot.channels.telegram_render", "bot.channels") and not within("bottle", "bot")


def test_flows_get_the_subdistrict_model_not_the_platform_settings() -> None:
    config = load_config(ROOT / "config.yaml")
    services = build_services(config)
    assert type(services.config) is SubdistrictModel
    platform = set(type(config).model_fields) - set(SubdistrictModel.model_fields)
    assert platform == {"telegram", "wechat", "wecom", "http", "storage", "stats"}  # stats: the dashboard's min_sample
    assert not any(hasattr(services.config, section) for section in platform)
    assert services.config.grids == config.grids and services.config.menus == config.menus
    assert services.links.bot_username == config.telegram.bot_username == "weifengshan_bot"
