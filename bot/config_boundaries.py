"""Checks of the grids' outlines (grids[].boundary, GeoJSON): every ring closed, at least four
positions, [longitude, latitude] in range, each problem on its own line naming the grid, so the
person drawing the outlines sees every mistake in one run of check-config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.domain.boundary import ring_problems

if TYPE_CHECKING:
    from bot.config import Config


def check_boundaries(config: Config, labels: list[str], problems: list[str]) -> None:
    for label, grid in zip(labels, config.grids, strict=True):
        if grid.boundary is None:
            continue
        for where, problem in ring_problems(grid.boundary):
            problems.append(f"grids[{label}].boundary.{where}: {problem}")
