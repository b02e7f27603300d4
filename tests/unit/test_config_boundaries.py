"""Issue 15: the grids' outlines (grids[].boundary, a GeoJSON Polygon or MultiPolygon) as
check-config reads them: each mistake on its own line, naming the grid and the ring."""

from __future__ import annotations

import copy
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, load_config

SHIPPED = Path(__file__).resolve().parents[2] / "config.yaml"
Mutation = Callable[[dict[str, Any]], None]
SQUARE = [[118.31, 32.30], [118.32, 32.30], [118.32, 32.31], [118.31, 32.31], [118.31, 32.30]]


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))


def _problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    prefix = f"{path}: "
    assert all(line.startswith(prefix) for line in info.value.problems), info.value.problems
    return [line.removeprefix(prefix) for line in info.value.problems]


def _outline(index: int, boundary: object) -> Mutation:
    return lambda d: d["grids"][index].update(boundary=boundary)


def _polygon(*rings: list) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


CASES: list[tuple[str, Mutation, str]] = [
    ("a ring that is not closed", _outline(4, _polygon(SQUARE[:-1] + [[118.311, 32.30]])),
     "grids[G05].boundary.coordinates[0]: the ring is not closed: its last position must repeat the first, "
     "[118.31, 32.3]"),
    ("three positions", _outline(4, _polygon([SQUARE[0], SQUARE[1], SQUARE[0]])),
     "grids[G05].boundary.coordinates[0]: a ring needs at least 4 positions (the first repeated at the end), "
     "found 3"),
    ("latitude written first", _outline(4, _polygon([[lat, lon] for lon, lat in SQUARE])),
     "grids[G05].boundary.coordinates[0][0]: latitude 118.31 is outside -90..90 in [32.3, 118.31] (the numbers "
     "look swapped: GeoJSON writes the longitude first) (and 4 more positions of this ring)"),
    ("a longitude out of range", _outline(4, _polygon([[218.31, 32.30], *SQUARE[1:4], [218.31, 32.30]])),
     "grids[G05].boundary.coordinates[0][0]: longitude 218.31 is outside -180..180 in [218.31, 32.3] "
     "(and 1 more positions of this ring)"),
    ("a position with a word", _outline(4, _polygon([SQUARE[0], ["118.32", 32.30], *SQUARE[2:]])),
     "grids[G05].boundary.coordinates[0][1]: a position is [longitude, latitude], two numbers; "
     "found ['118.32', 32.3]"),
    ("a hole that is not closed, in the second part of a MultiPolygon",
     _outline(4, {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE, SQUARE[:4] + [[118.315, 32.305]]]]}),
     "grids[G05].boundary.coordinates[1][1]: the ring is not closed"),
    ("a ring on one line", _outline(4, _polygon([[118.31, 32.30], [118.32, 32.30], [118.33, 32.30],
                                                [118.31, 32.30]])),
     "grids[G05].boundary.coordinates[0]: the ring encloses no area"),
    ("a MultiPolygon written like a Polygon", _outline(4, {"type": "MultiPolygon", "coordinates": [SQUARE]}),
     "grids[G05].boundary.coordinates[0]: these are positions, not rings: one level of [ ] is missing"),
    ("a Polygon written like a MultiPolygon", _outline(4, _polygon([SQUARE])),
     "grids[G05].boundary.coordinates: one level of [ ] too many"),
    ("a Polygon without rings", _outline(4, _polygon()),
     "grids[G05].boundary.coordinates: a Polygon needs coordinates"),
    ("a Point", _outline(4, {"type": "Point", "coordinates": [118.31, 32.30]}),
     "grids[G05].boundary.type: Input should be 'Polygon' or 'MultiPolygon'"),
    ("a Feature pasted whole", _outline(4, {"type": "Polygon", "coordinates": [SQUARE], "properties": {}}),
     "grids[G05].boundary.properties: unknown key"),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in CASES], ids=[c[0] for c in CASES])
def test_a_bad_boundary_is_refused_naming_the_grid_and_ring(
        tmp_path: Path, raw: dict[str, Any], mutate: Mutation, expected: str) -> None:
    mutate(raw)
    problems = _problems(tmp_path, raw)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_every_boundary_problem_is_listed_in_one_run(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grids"][0]["boundary"] = _polygon(SQUARE[:3])
    raw["grids"][38]["boundary"] = {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[32.3, 118.3]] * 4]]}
    problems = _problems(tmp_path, raw)
    assert [p.split(": ")[0] for p in problems] == [
        "grids[G01].boundary.coordinates[0]", "grids[G39].boundary.coordinates[1][0][0]"], problems


def test_a_grid_without_a_boundary_is_fine(tmp_path: Path, raw: dict[str, Any]) -> None:
    del raw["grids"][4]["boundary"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = load_config(path)
    assert config.grids[4].boundary is None and config.grids[3].boundary is not None


def _inside(point: tuple[float, float], ring: list[list[float]]) -> bool:
    """Ray casting: is (lon, lat) inside the ring?"""
    x, y = point
    crossings = 0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def _box(ring: list[list[float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def test_the_sample_outlines_every_grid_approximately() -> None:
    """Every sample grid has an outline; the public places with coordinates lie in their own grid's;
    no two outlines overlap (they are rough rectangles, so their boxes are compared); the file
    says they are approximate."""
    config = load_config(SHIPPED)
    outlines = {g.id: [polygon[0] for _, polygon in g.boundary.polygons()] for g in config.grids if g.boundary}
    assert set(outlines) == {g.id for g in config.grids}
    assert {g.id for g in config.grids if g.boundary and g.boundary.type == "MultiPolygon"} == {
        "G08", "G20", "G27", "G39"}  # two compounds, two parts
    for grid in config.grids:
        for place in grid.public_places:
            if place.lat is not None and place.lon is not None:
                assert any(_inside((place.lon, place.lat), ring) for ring in outlines[grid.id]), place.name
    parts = [(grid_id, _box(ring)) for grid_id, rings in outlines.items() for ring in rings]
    for (a, (ax0, ay0, ax1, ay1)), (b, (bx0, by0, bx1, by1)) in combinations(parts, 2):
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)
    text = SHIPPED.read_text(encoding="utf-8").split("\ngrids:")[0]
    assert "近似" in text and "虚构示意" in text
