"""The address book: every building of the subdistrict, and fuzzy matching of typed addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from handlers.domain.building_names import building_key, typed_address
from handlers.domain.model import Config
from handlers.types import Address

# A number not followed by 单元 (a unit is not a building) nor by more digits.
_BUILDING_NUMBER = re.compile(r"(\d+)(?!\d|单元)(?:栋|幢|号楼|号|座)?")
_COMPOUND_CUTOFF = 60.0


@dataclass(frozen=True)
class Building:
    index: int
    address: Address


@dataclass(frozen=True)
class AddressMatch:
    """A guess at what the resident typed: a compound, and the building if one was named."""

    compound: str
    building: Building | None
    score: float
    detail: str = ""  # what followed the building: 「2单元302」 of 「龙池花园5栋2单元302」


class AddressBook:
    def __init__(self, config: Config) -> None:
        self._buildings: list[Building] = []
        self._compounds: dict[str, list[Building]] = {}
        self._community_compounds: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}  # searchable name or alias -> compound
        for grid in config.grids:
            for compound in grid.compounds:
                names = self._community_compounds.setdefault(grid.community, [])
                if compound.name not in names:
                    names.append(compound.name)
                for alias in (compound.name, *compound.aliases):
                    self._names.setdefault(alias, compound.name)
                for building in compound.buildings:
                    entry = Building(
                        len(self._buildings),
                        Address(grid.community, compound.name, building, grid.id),
                    )
                    self._buildings.append(entry)
                    self._compounds.setdefault(compound.name, []).append(entry)

    def compounds_of(self, community_id: str) -> list[str]:
        return list(self._community_compounds.get(community_id, []))

    def buildings_of(self, compound: str) -> list[Building]:
        return list(self._compounds.get(compound, []))

    def building(self, index: int) -> Building | None:
        return self._buildings[index] if 0 <= index < len(self._buildings) else None

    def compound_index(self, compound: str) -> int:
        return list(self._compounds).index(compound)

    def compound_at(self, index: int) -> str | None:
        names = list(self._compounds)
        return names[index] if 0 <= index < len(names) else None

    def find(self, address: Address) -> Building | None:
        return next(
            (b for b in self._compounds.get(address.compound, []) if b.address == address), None
        )

    def match(self, text: str, limit: int = 3) -> list[AddressMatch]:
        """Best guesses for a typed address such as 「龙池花园3号楼」, best first."""
        cleaned = typed_address(text)
        number_match = _BUILDING_NUMBER.search(cleaned)
        compound_text = cleaned[: number_match.start()] if number_match else cleaned
        detail = cleaned[number_match.end():] if number_match else ""
        if not compound_text:
            return []
        found = process.extract(
            compound_text, list(self._names), scorer=fuzz.WRatio, limit=limit * 2,
            score_cutoff=_COMPOUND_CUTOFF,
        )
        matches: list[AddressMatch] = []
        seen: set[str] = set()
        for name, score, _ in found:
            compound = self._names[name]
            if compound in seen:
                continue
            seen.add(compound)
            building = None
            if number_match:
                wanted = number_match.group(1)
                building = next(
                    (b for b in self._compounds[compound]
                     if building_key(b.address.building) == wanted),
                    None,
                )
                if building is None:
                    continue
            matches.append(AddressMatch(compound, building, float(score), detail if building else ""))
        return matches[:limit]
