"""Checks of the public places (grids[].public_places): a place is named once in the whole file,
and never like a compound, so a typed name means one thing and a ticket routes to one grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.domain.building_names import compound_key

if TYPE_CHECKING:
    from bot.config import Config


def check_public_places(config: Config, labels: list[str], problems: list[str]) -> None:
    compounds = {compound_key(name) for grid in config.grids for compound in grid.compounds
                 for name in (compound.name, *compound.aliases)}
    seen: dict[str, str] = {}  # the place's comparable name -> where it was first named
    for label, grid in zip(labels, config.grids, strict=True):
        for j, place in enumerate(grid.public_places):
            path = f"grids[{label}].public_places[{j}]"
            key = compound_key(place.name)
            if key in seen:
                problems.append(f"{path}: duplicate public place {place.name!r} (first at {seen[key]}): "
                                "a public place belongs to exactly one grid")
                continue
            seen[key] = path
            if key in compounds:
                problems.append(f"{path}: public place {place.name!r} has the name of a compound; "
                                "name the place itself (e.g. 龙池花园南门广场)")
