"""Checking a roster import, row by row, before anything is written (channel-neutral).

Two kinds: a staff roster (community, grid, role, name, phone, id) and residents' care tags
(phone or resident id → tags). Every problem is named with its row number; an import is written
only when it has none (storage/roster.py writes it in one transaction). Headers may be English or
Chinese (社区, 网格, 角色, 姓名, 电话, 编号 / 居民编号, 标签).

People config.yaml lists are config's: an import naming one of their ids is refused (change it in
the file). Imported people are grid or community people (leader, guide, worker, staff); admins
and responders come from the config only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from handlers.domain.model import Config, Role
from handlers.formatting import mask_phone, normalise_phone
from handlers.rendering import strip_hidden
from handlers.roster_files import FileProblem, Row, Table

Translate = Callable[..., str]


class ImportKind(StrEnum):
    STAFF = "staff"
    TAGS = "tags"


STAFF_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "community": ("community", "社区"), "grid": ("grid", "网格"), "role": ("role", "角色", "职务"),
    "name": ("name", "姓名"), "phone": ("phone", "电话", "手机", "手机号"), "id": ("id", "编号", "工号"),
}
TAG_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "phone": ("phone", "电话", "手机", "手机号"), "resident": ("resident", "resident_id", "居民编号"),
    "tags": ("tags", "标签", "重点人群"),
}
IMPORTED_ROLES = (Role.LEADER, Role.GUIDE, Role.WORKER, Role.STAFF)
ROLE_WORDS: Mapping[str, Role] = {
    "leader": Role.LEADER, "网格长": Role.LEADER, "支部网格长": Role.LEADER,
    "guide": Role.GUIDE, "网格指导员": Role.GUIDE, "指导员": Role.GUIDE,
    "worker": Role.WORKER, "网格员": Role.WORKER, "党员网格员": Role.WORKER,
    "staff": Role.STAFF, "社区工作人员": Role.STAFF,
}
PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
NAME_LIMIT = 20
TAG_SPLIT = re.compile(r"[、,，;；/\s]+")


@dataclass(frozen=True)
class StaffEntry:
    id: str
    name: str
    phone: str
    role: str
    grid_id: str | None
    community_id: str


@dataclass(frozen=True)
class TagEntry:
    resident_id: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    row: int  # 0: the file as a whole
    text: str


@dataclass(frozen=True)
class Checked:
    kind: ImportKind
    rows: int
    staff: tuple[StaffEntry, ...] = ()
    tags: tuple[TagEntry, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems and self.rows > 0


@dataclass(frozen=True)
class ResidentsFound:
    """What the database says about the residents a tag file names (storage/roster.py)."""

    by_phone: Mapping[str, tuple[int, ...]]
    ids: frozenset[int]  # of the resident ids named, those that exist and are not erased


def file_problem(kind: ImportKind, problem: FileProblem, t: Translate) -> Checked:
    return Checked(kind, 0, problems=(Problem(0, t(problem.value)),))


def _columns(table: Table, wanted: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Our column name → the file's header for it."""
    return {ours: next(h for h in table.header if h in names)
            for ours, names in wanted.items() if any(h in names for h in table.header)}


def _missing(kind: ImportKind, table: Table, found: dict[str, str], needed: tuple[str, ...],
             t: Translate) -> Checked | None:
    absent = [STAFF_COLUMNS.get(c, TAG_COLUMNS.get(c, (c,)))[1] for c in needed if c not in found]
    if not absent:
        return None
    return Checked(kind, len(table.rows), problems=(Problem(1, t("people_import_missing_columns",
                                                                  columns="、".join(absent))),))


def staff_phone(text: str) -> str | None:
    """A mobile (normalised) or a landline (as typed, e.g. 0571-87654321); '' for none."""
    if not text:
        return ""
    mobile = normalise_phone(text)
    if mobile is not None:
        return mobile
    compact = re.sub(r"[\s()（）]", "", text)
    return compact if LANDLINE.fullmatch(compact) else None


def check_staff(table: Table, config: Config, t: Translate) -> Checked:
    kind = ImportKind.STAFF
    found = _columns(table, STAFF_COLUMNS)
    missing = _missing(kind, table, found, tuple(STAFF_COLUMNS), t)
    if missing is not None:
        return missing
    communities = {key: c.id for c in config.communities for key in (c.id.lower(), c.name)}
    grids = {key: g for g in config.grids for key in (g.id.lower(), g.name)}
    in_config = {p.id for p, _, _, _ in config.all_people()}
    first_seen: dict[str, int] = {}
    entries, problems = [], []
    for row in table.rows:
        entry, said = _staff_row(row, found, communities, grids, in_config, first_seen, t)
        problems += [Problem(row.number, text) for text in said]
        if entry is not None:
            entries.append(entry)
    return Checked(kind, len(table.rows), staff=tuple(entries), problems=tuple(problems))


def _staff_row(row: Row, found: dict[str, str], communities: dict, grids: dict, in_config: set[str],
               first_seen: dict[str, int], t: Translate) -> tuple[StaffEntry | None, list[str]]:
    def cell(column: str) -> str:
        return strip_hidden(row.get(found[column])).strip()

    said: list[str] = []
    person_id, name = cell("id"), cell("name")
    if not PERSON_ID.fullmatch(person_id):
        said.append(t("people_import_bad_id", value=person_id[:40]))
    elif person_id.lower() in first_seen:
        said.append(t("people_import_duplicate_id", value=person_id, row=first_seen[person_id.lower()]))
    elif person_id in in_config:
        said.append(t("people_import_config_id", value=person_id))
    if PERSON_ID.fullmatch(person_id):
        first_seen.setdefault(person_id.lower(), row.number)
    if not name or len(name) > NAME_LIMIT:
        said.append(t("people_import_bad_name", limit=NAME_LIMIT))
    role = ROLE_WORDS.get(cell("role").lower())
    if role is None:
        said.append(t("people_import_bad_role", value=cell("role")))
    community_id = communities.get(cell("community").lower()) or communities.get(cell("community"))
    if community_id is None:
        said.append(t("people_import_unknown_community", value=cell("community")))
    grid_text = cell("grid")
    grid = grids.get(grid_text.lower()) or grids.get(grid_text)
    if role is not None and role is not Role.STAFF:
        if grid is None:
            said.append(t("people_import_unknown_grid", value=grid_text))
        elif community_id is not None and grid.community != community_id:
            said.append(t("people_import_grid_elsewhere", grid=grid.name))
    phone = staff_phone(cell("phone"))
    if phone is None:
        said.append(t("people_import_bad_phone"))
    if said or role is None or community_id is None or phone is None:
        return None, said
    grid_id = grid.id if grid is not None and role is not Role.STAFF else None
    return StaffEntry(person_id, name, phone, role.value, grid_id, community_id), said


def tag_lookups(table: Table) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The phones and resident ids a tag file names, for storage to look up."""
    found = _columns(table, TAG_COLUMNS)
    phones = {normalise_phone(row.get(found["phone"])) for row in table.rows} if "phone" in found else set()
    ids = {int(row.get(found["resident"])) for row in table.rows
           if "resident" in found and row.get(found["resident"]).isdigit() and len(row.get(found["resident"])) < 12}
    return tuple(sorted(p for p in phones if p)), tuple(sorted(ids))


def check_tags(table: Table, allowed: tuple[str, ...], residents: ResidentsFound, t: Translate) -> Checked:
    kind = ImportKind.TAGS
    found = _columns(table, TAG_COLUMNS)
    missing = _missing(kind, table, found, ("tags",), t)
    if missing is None and "phone" not in found and "resident" not in found:
        return Checked(kind, len(table.rows), problems=(Problem(1, t("people_import_missing_columns",
                                                                      columns=t("people_import_phone_or_id"))),))
    if missing is not None:
        return missing
    first_seen: dict[int, int] = {}
    entries, problems = [], []
    for row in table.rows:
        said: list[str] = []
        resident = _resident(row, found, residents, said, t)
        tags = tuple(dict.fromkeys(tag for tag in TAG_SPLIT.split(strip_hidden(row.get(found["tags"]))) if tag))
        if not tags:
            said.append(t("people_import_no_tags"))
        unknown = [tag for tag in tags if tag not in allowed]
        if unknown:
            said.append(t("people_import_unknown_tag", value="、".join(unknown)[:60], allowed="、".join(allowed)))
        if resident is not None and resident in first_seen:
            said.append(t("people_import_duplicate_resident", row=first_seen[resident]))
        elif resident is not None:
            first_seen[resident] = row.number
        problems += [Problem(row.number, text) for text in said]
        if not said and resident is not None:
            entries.append(TagEntry(resident, tags))
    return Checked(kind, len(table.rows), tags=tuple(entries), problems=tuple(problems))


def _resident(row: Row, found: dict[str, str], residents: ResidentsFound, said: list[str],
              t: Translate) -> int | None:
    """The resident a tag row names: by resident id when given, else by phone (exactly one)."""
    raw_id = row.get(found["resident"]) if "resident" in found else ""
    raw_phone = row.get(found["phone"]) if "phone" in found else ""
    if raw_id:
        if raw_id.isdigit() and len(raw_id) < 12 and int(raw_id) in residents.ids:
            return int(raw_id)
        said.append(t("people_import_unknown_resident", value=raw_id[:20]))
        return None
    phone = normalise_phone(raw_phone) if raw_phone else None
    if phone is None:
        said.append(t("people_import_bad_phone") if raw_phone else t("people_import_no_resident"))
        return None
    matches = residents.by_phone.get(phone, ())
    if len(matches) != 1:
        key = "people_import_phone_unknown" if not matches else "people_import_phone_ambiguous"
        said.append(t(key, phone=mask_phone(phone)))
        return None
    return matches[0]
