"""A grid's outline (grids[].boundary): a GeoJSON geometry (RFC 7946), a Polygon or a
MultiPolygon, every position [longitude, latitude].

The model takes the geometry's shape as written, so the file's mistakes can be named one by one:
`ring_problems` checks every ring (closed, at least 4 positions, numbers in range, longitude
first) and bot/config_boundaries.py reports each with a key path naming the grid."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from handlers.domain.base import Strict

MIN_RING = 4  # a closed triangle: three corners and the first again


class GeometryType(StrEnum):
    POLYGON = "Polygon"
    MULTIPOLYGON = "MultiPolygon"


class Boundary(Strict):
    type: GeometryType
    coordinates: list[Any]  # checked ring by ring (ring_problems), so every mistake gets its path

    def polygons(self) -> list[tuple[str, Any]]:
        """Each polygon with its key path below `coordinates`: a Polygon is one, a MultiPolygon
        a list of them."""
        if self.type is GeometryType.POLYGON:
            return [("coordinates", self.coordinates)]
        return [(f"coordinates[{i}]", polygon) for i, polygon in enumerate(self.coordinates)]

    def geojson(self) -> dict[str, Any]:
        """The geometry as Leaflet's L.geoJSON reads it."""
        return {"type": self.type.value, "coordinates": self.coordinates}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position_problem(position: object) -> str | None:
    if not (isinstance(position, list) and len(position) == 2 and all(_is_number(v) for v in position)):
        return f"a position is [longitude, latitude], two numbers; found {position!r}"
    lon, lat = position
    if not -90 <= lat <= 90:
        hint = " (the numbers look swapped: GeoJSON writes the longitude first)" if -90 <= lon <= 90 else ""
        return f"latitude {lat} is outside -90..90 in {position!r}{hint}"
    if not -180 <= lon <= 180:
        return f"longitude {lon} is outside -180..180 in {position!r}"
    return None


def _twice_area(ring: list[list[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False))


NESTING = ("a Polygon is [[[lon, lat], …]] (rings of positions), a MultiPolygon [[[[lon, lat], …]]] "
           "(a list of those)")


def _depth(value: object) -> int:
    """How many lists deep the first element goes: a position is 1, a ring 2, a polygon 3."""
    depth = 0
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    return depth


def _ring_problems(ring: object) -> Iterator[tuple[str, str]]:
    if not isinstance(ring, list):
        yield "", f"a ring is a list of [longitude, latitude] positions; found {ring!r}"
        return
    bad = [(f"[{k}]", problem) for k, position in enumerate(ring)
           if (problem := _position_problem(position)) is not None]
    if bad:  # the first one, and how many more: a ring written the wrong way round is one line
        where, problem = bad[0]
        more = f" (and {len(bad) - 1} more positions of this ring)" if len(bad) > 1 else ""
        yield where, problem + more
    if len(ring) < MIN_RING:
        yield "", f"a ring needs at least {MIN_RING} positions (the first repeated at the end), found {len(ring)}"
    elif not bad and ring[0] != ring[-1]:
        yield "", f"the ring is not closed: its last position must repeat the first, {ring[0]!r}"
    elif not bad and _twice_area(ring) == 0:
        yield "", "the ring encloses no area (its positions lie on one line)"


def ring_problems(boundary: Boundary) -> list[tuple[str, str]]:
    """(key path below the boundary, what is wrong) for every mistake in its rings."""
    if not boundary.coordinates:
        return [("coordinates", f"a {boundary.type.value} needs coordinates")]
    problems: list[tuple[str, str]] = []
    for path, polygon in boundary.polygons():
        if not isinstance(polygon, list) or not polygon:
            problems.append((path, "a polygon is a list of rings, the outer ring first; found "
                                   f"{polygon!r}"))
            continue
        # The usual slip: one pair of brackets too few or too many for the type written
        # (a polygon is rings of positions of numbers: three lists deep).
        if _depth(polygon) == 2:
            problems.append((path, f"these are positions, not rings: one level of [ ] is missing ({NESTING})"))
            continue
        if _depth(polygon) > 3:
            problems.append((path, f"one level of [ ] too many ({NESTING})"))
            continue
        for j, ring in enumerate(polygon):
            problems += [(f"{path}[{j}]{where}", problem) for where, problem in _ring_problems(ring)]
    return problems
