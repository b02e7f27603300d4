"""Issue 13: public places in the config (grids[].public_places), as check-config reads them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, load_config

SHIPPED = Path(__file__).resolve().parents[2] / "config.yaml"
Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture
def raw() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def _error(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


def test_the_sample_names_places_as_names_or_with_coordinates() -> None:
    config = load_config(SHIPPED)
    places = {p.name: p for g in config.grids for p in g.public_places}
    assert {"丰山路与龙池路交叉口", "龙池公园", "南湖公园", "丰乐菜场", "高庵路（高庵小区段）"} <= set(places)
    assert places["龙池公园"].lat is not None and places["高庵路（高庵小区段）"].lat is None
    assert "虚构占位" in SHIPPED.read_text(encoding="utf-8").split("public_places")[0][-200:]


CASES: list[tuple[str, Mutation, tuple[str, ...]]] = [
    ("a place in two grids", lambda d: d["grids"][4].update(public_places=["龙池公园"]),
     ("grids[G05].public_places[0]", "duplicate public place '龙池公园'", "grids[G01].public_places[1]")),
    ("the same place written with a space", lambda d: d["grids"][4].update(public_places=["龙池 公园"]),
     ("grids[G05].public_places[0]", "duplicate public place")),
    ("a place named like a compound", lambda d: d["grids"][4].update(public_places=["清流苑"]),
     ("grids[G05].public_places[0]", "has the name of a compound")),
    ("a latitude without a longitude", lambda d: d["grids"][4].update(public_places=[{"name": "清流广场", "lat": 32.3}]),
     ("grids[G05].public_places[0]", "lat and lon")),
    ("a latitude out of range", lambda d: d["grids"][4].update(
        public_places=[{"name": "清流广场", "lat": 132.3, "lon": 118.3}]), ("grids[G05].public_places[0].lat",)),
    ("an unknown key", lambda d: d["grids"][4].update(public_places=[{"name": "清流广场", "where": "南门"}]),
     ("grids[G05].public_places[0].where", "unknown key")),
]


@pytest.mark.parametrize(("mutate", "fragments"), [(m, f) for _, m, f in CASES], ids=[c[0] for c in CASES])
def test_bad_public_places_are_refused_naming_the_grid(
    tmp_path: Path, raw: dict[str, Any], mutate: Mutation, fragments: tuple[str, ...]
) -> None:
    mutate(raw)
    message = _error(tmp_path, raw)
    for fragment in fragments:
        assert fragment in message, message
