"""Which grids a leader means when typing one (转派): ids as people write them, names or parts of
names, a reason written after the grid; and the order a grid list is offered in.

Pure functions of the config, so the 转派 flow and its tests read grids the same way."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, process

from handlers.domain.model import Config, Grid

_SEPARATOR = re.compile(r"(?:\s|[，,：:；;。])+")
_GRID_ID = re.compile(r"([A-Za-z]+)\s*0*(\d+)")
_ID_PREFIX = re.compile(r"([A-Za-z]+\s*\d+)([^\d\s].*)", re.DOTALL)  # 「G02楼栋不归我们管」
_LABEL_REST = re.compile(r"\s*\([^()]*\)\s*$")  # the 「（南桥社区）」 of a list label, after NFKC
FUZZY_CUTOFF = 80
FUZZY_TIES = 5  # fuzzy matches this close to the best are all offered


def _id_key(text: str) -> tuple[str, int] | None:
    found = _GRID_ID.fullmatch(text)
    return (found[1].upper(), int(found[2])) if found else None


def _exact(config: Config, text: str) -> Grid | None:
    """The grid whose id (G1 = G01 = g01) or whole name this is."""
    key = _id_key(text)
    for grid in config.grids:
        if text.upper() == grid.id.upper() or text == grid.name or (key is not None and key == _id_key(grid.id)):
            return grid
    return None


def matching_grids(config: Config, text: str) -> tuple[list[Grid], bool]:
    """The grids a typed grid text may mean, in config order, and whether it names one for
    certain (an id, a whole name, or a part of exactly one grid's name)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return [], False
    exact = _exact(config, text)
    if exact is not None:
        return [exact], True
    if len(text) >= 2:
        containing = [g for g in config.grids if text in g.name]
        if containing:
            return containing, len(containing) == 1
    names = [g.name for g in config.grids]
    scored = process.extract(text, names, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=None)
    if not scored:
        return [], False
    best = max(score for _, score, _ in scored)
    close = {index for _, score, index in scored if score >= best - FUZZY_TIES}
    return [g for i, g in enumerate(config.grids) if i in close], False


def split_grid_and_reason(config: Config, text: str) -> tuple[str, str]:
    """「G02 楼栋不归我们管」 → ("G02", "楼栋不归我们管"); a text that is all grid has no reason,
    nor has a list label typed out (「G02 龙池花园第二网格」, 「G11 南桥新村第一网格（南桥社区）」)."""
    text = text.strip()
    if matching_grids(config, text)[1]:
        return text, ""
    parts = _SEPARATOR.split(text, maxsplit=1)
    if len(parts) == 2 and matching_grids(config, parts[0])[0]:
        grid = _exact(config, unicodedata.normalize("NFKC", parts[0]).strip())
        if grid is not None and _LABEL_REST.sub("", unicodedata.normalize("NFKC", parts[1])).strip() == grid.name:
            return parts[0], ""
        return parts[0], parts[1].strip()
    normal = unicodedata.normalize("NFKC", text)
    glued = _ID_PREFIX.fullmatch(normal)
    if glued and _exact(config, glued[1]) is not None:
        return glued[1], glued[2].strip()
    named = [g.name for g in config.grids if normal.startswith(g.name) and len(normal) > len(g.name)]
    if named:
        name = max(named, key=len)
        return name, normal[len(name):].lstrip("，,：:；; ").strip()
    return (parts[0], parts[1].strip()) if len(parts) == 2 else (text, "")


def list_order(config: Config, grid_id: str, community_id: str) -> list[str]:
    """Every grid but `grid_id`: those of its community first, then each other community's,
    in config order (a leader usually passes a ticket to a neighbouring grid)."""
    own = next((g.community for g in config.grids if g.id == grid_id), community_id)
    order = [own] + [c.id for c in config.communities if c.id != own]
    rank = {community: index for index, community in enumerate(order)}
    others = [g for g in config.grids if g.id != grid_id]
    return [g.id for g in sorted(others, key=lambda g: rank.get(g.community, len(rank)))]
