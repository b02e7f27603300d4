"""The address book: every building and public place of the subdistrict, and matching of typed
addresses (exact first, then fuzzy) and of a location to the nearest public place.

A public place (a road, a crossing, a park, a market) is an Address whose compound is the
place's name and whose building is empty: routing needs only its grid, and cards, lists, stats
and exports show `label` (compound + building), which is then just the name. No migration: the
tickets table already stores compound, building and grid. Config check keeps place names apart
from compound names, so the two never read as each other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from handlers.domain.building_names import building_key, compound_key, typed_address
from handlers.domain.model import Config
from handlers.types import Address

# A number not followed by 单元 (a unit is not a building) nor by more digits.
_BUILDING_NUMBER = re.compile(r"(\d+)(?!\d|单元)(?:栋|幢|号楼|号|座)?")
_COMPOUND_CUTOFF = 60.0
_PLACE_CUTOFF = 80.0
NEAR_METRES = 500.0  # a location this close to a configured place is taken to be about it


@dataclass(frozen=True)
class Building:
    index: int
    address: Address


@dataclass(frozen=True)
class PlaceEntry:
    index: int
    address: Address  # compound = the place's name, building = ""
    lat: float | None = None
    lon: float | None = None


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
        self._exact: dict[str, set[str]] = {}  # compound_key(name or alias) -> compounds
        self._places: list[PlaceEntry] = []
        for grid in config.grids:
            for place in grid.public_places:
                self._places.append(PlaceEntry(len(self._places), Address(grid.community, place.name, "", grid.id),
                                               place.lat, place.lon))
            for compound in grid.compounds:
                names = self._community_compounds.setdefault(grid.community, [])
                if compound.name not in names:
                    names.append(compound.name)
                for alias in (compound.name, *compound.aliases):
                    self._names.setdefault(alias, compound.name)
                    self._exact.setdefault(compound_key(alias), set()).add(compound.name)
                for building in compound.buildings:
                    entry = Building(
                        len(self._buildings),
                        Address(grid.community, compound.name, building, grid.id),
                    )
                    self._buildings.append(entry)
                    self._compounds.setdefault(compound.name, []).append(entry)

    def compounds_of(self, community_id: str) -> list[str]:
        return list(self._community_compounds.get(community_id, []))

    def compounds_of_any(self) -> set[str]:
        return set(self._compounds)

    def buildings_of(self, compound: str) -> list[Building]:
        return list(self._compounds.get(compound, []))

    def building(self, index: int) -> Building | None:
        return self._buildings[index] if 0 <= index < len(self._buildings) else None

    def compound_index(self, compound: str) -> int:
        return list(self._compounds).index(compound)

    def compound_at(self, index: int) -> str | None:
        names = list(self._compounds)
        return names[index] if 0 <= index < len(names) else None

    def find(self, address: Address) -> Building | PlaceEntry | None:
        if not address.building:
            return next((p for p in self._places if p.address == address), None)
        return next(
            (b for b in self._compounds.get(address.compound, []) if b.address == address), None
        )

    def communities_with_addresses(self) -> set[str]:
        """Communities a resident can pick something in: a compound or a public place."""
        return set(self._community_compounds) | {p.address.community_id for p in self._places}

    # -- public places ----------------------------------------------------------------------

    def places(self, community_first: str = "") -> list[PlaceEntry]:
        """Every public place, those of `community_first` first (config order otherwise)."""
        return sorted(self._places, key=lambda p: p.address.community_id != community_first)

    def place(self, index: int) -> PlaceEntry | None:
        return self._places[index] if 0 <= index < len(self._places) else None

    def is_place(self, address: Address) -> bool:
        return not address.building and self.find(address) is not None

    def nearest_place(self, latitude: float, longitude: float) -> PlaceEntry | None:
        """The configured place with coordinates nearest to a location, within NEAR_METRES."""
        located = [(p, _metres(latitude, longitude, p.lat, p.lon)) for p in self._places
                   if p.lat is not None and p.lon is not None]
        best = min(located, key=lambda pair: pair[1], default=None)
        return best[0] if best is not None and best[1] <= NEAR_METRES else None

    # -- typed addresses --------------------------------------------------------------------

    def exact(self, text: str) -> AddressMatch | PlaceEntry | None:
        """What a typed address names without doubt: a public place by its name, or one compound
        by its name or alias with, if a number follows, one of its buildings."""
        cleaned = typed_address(text)
        place = next((p for p in self._places if compound_key(p.address.compound) == cleaned), None)
        if place is not None:
            return place
        number_match = _BUILDING_NUMBER.search(cleaned)
        compound_text = cleaned[: number_match.start()] if number_match else cleaned
        compounds = self._exact.get(compound_key(compound_text), set())
        if len(compounds) != 1:
            return None
        compound = next(iter(compounds))
        if number_match is None:
            return AddressMatch(compound, None, 100.0)
        building = next((b for b in self._compounds[compound]
                         if building_key(b.address.building) == number_match.group(1)), None)
        if building is None:
            return None
        return AddressMatch(compound, building, 100.0, cleaned[number_match.end():])

    def match_places(self, text: str, limit: int = 3) -> list[PlaceEntry]:
        """Public places whose name is like the typed text, best first."""
        names = [p.address.compound for p in self._places]
        found = process.extract(typed_address(text), names, scorer=fuzz.WRatio, limit=limit,
                                score_cutoff=_PLACE_CUTOFF)
        return [self._places[index] for _, _, index in found]

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


def _metres(lat1: float, lon1: float, lat2: float | None, lon2: float | None) -> float:
    """Great-circle distance (haversine); plenty exact at the scale of a neighbourhood."""
    assert lat2 is not None and lon2 is not None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
