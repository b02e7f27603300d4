"""人员 → 导入 (/staff/people/import), admins only: a staff roster or residents' care tags from a
CSV or XLSX file. Uploading is a dry run (handlers/roster_import.py): every row's problem is
shown with its row number and nothing is written. A file without problems is kept (its checked
rows, in roster_imports) until the admin confirms; the confirmation checks again and writes it
all in one transaction, once (a replayed confirmation changes nothing). Every upload is recorded
(who, when, rows, problems, added, updated)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.people import admins_only, is_admin
from bot.web.views import message_page, render, when
from handlers.roster_files import MAX_BYTES, MAX_ROWS, FileProblem, read_table
from handlers.roster_import import (
    Checked,
    ImportKind,
    ResidentsFound,
    StaffEntry,
    check_staff,
    check_tags,
    file_problem,
    tag_lookups,
)
from storage import roster
from storage.engine import Connection
from storage.roster import StaffRecord

log = logging.getLogger(__name__)
IMPORT_PATH = "/staff/people/import"
REQUEST_LIMIT = MAX_BYTES + 64 * 1024  # the form's other fields and the multipart headers


def import_size() -> Middleware:
    """The bot's server takes 1 MB bodies; an import form may carry a file up to MAX_BYTES, so it
    is read with a cap of its own, and a larger one is told as such before anything is read."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path == IMPORT_PATH:
            if (request.content_length or 0) > REQUEST_LIMIT:
                return message_page(request, "people_import_title", "people_import_too_large", status=413)
            request = request.clone(client_max_size=REQUEST_LIMIT)
        return await handler(request)

    return middleware


async def _history(request: web.Request) -> list[dict[str, Any]]:
    app = request.app[WORKPLACE].app
    t = app.services.texts.t
    async with app.db.read() as conn:
        found = await roster.recent_imports(conn)
        names = await roster.names(conn)
    return [{"id": r.id, "at": when(request, r.created_at), "who": names.get(r.person_id, r.person_id),
             "kind": t(f"people_import_kind_{r.kind}"), "rows": r.rows, "problems": r.problems,
             "added": r.added, "updated": r.updated, "status": t(f"people_import_status_{r.status}")} for r in found]


async def import_page(request: web.Request, status: int = 200) -> web.Response:
    if not is_admin(request[STAFF]):
        return admins_only(request)
    config = request.app[WORKPLACE].app.services.config
    return render(request, "people_import.html", {
        "history": await _history(request), "care_tags": "、".join(config.privacy.care_tags),
        "max_rows": MAX_ROWS, "max_kb": MAX_BYTES // 1024}, status=status)


async def _check(conn: Connection, request: web.Request, kind: ImportKind, data: bytes) -> Checked:
    services = request.app[WORKPLACE].app.services
    t = services.texts.t
    table = read_table(data)
    if isinstance(table, FileProblem):
        return file_problem(kind, table, t)
    if kind is ImportKind.STAFF:
        return check_staff(table, services.config, t)
    phones, ids = tag_lookups(table)
    found = ResidentsFound(await roster.residents_by_phone(conn, phones), await roster.existing_residents(conn, ids))
    return check_tags(table, tuple(services.config.privacy.care_tags), found, t)


def _payload(checked: Checked) -> dict[str, Any]:
    return {"staff": [asdict(e) for e in checked.staff], "tags": [[e.resident_id, list(e.tags)] for e in checked.tags]}


def _entry(request: web.Request, entry: StaffEntry) -> dict[str, str]:
    """A checked row as the dry run lists it: the grid's (or community's) name."""
    config = request.app[WORKPLACE].app.services.config
    grid = config.grid(entry.grid_id) if entry.grid_id else None
    community = config.community(entry.community_id)
    return {"name": entry.name, "role": entry.role,
            "area": grid.name if grid else community.name if community else entry.community_id}


async def dry_run(request: web.Request) -> web.Response:
    staff: Staff = request[STAFF]
    if not is_admin(staff):
        return admins_only(request)
    form = await request.post()
    try:
        kind = ImportKind(str(form.get("kind", "")))
    except ValueError:
        return await import_page(request, status=400)
    field = form.get("file")
    data = field.file.read(MAX_BYTES + 1) if isinstance(field, web.FileField) else b""
    app = request.app[WORKPLACE].app
    now = app.clock.now()
    async with app.db.transaction() as conn:
        checked = await _check(conn, request, kind, data)
        payload = _payload(checked) if checked.valid else None
        import_id = await roster.record_import(conn, kind.value, staff.person.id, now, checked.rows,
                                               len(checked.problems), payload)
    log.info("workplace: %s import %d checked by %s: %d rows, %d problems", kind.value, import_id,
             staff.person.id, checked.rows, len(checked.problems))
    return render(request, "people_import_result.html", {
        "import_id": import_id, "kind": kind.value, "rows": checked.rows, "valid": checked.valid,
        "problems": [{"row": p.row, "text": p.text} for p in checked.problems],
        "people": [_entry(request, e) for e in checked.staff], "tagged": len(checked.tags)},
        status=200 if checked.valid else 422)


class _Stale(Exception):
    """The checked rows no longer hold (a resident erased since the dry run): nothing is written."""


async def confirm(request: web.Request) -> web.Response:
    staff: Staff = request[STAFF]
    if not is_admin(staff):
        return admins_only(request)
    raw = request.match_info.get("id", "")
    import_id = int(raw) if raw.isdigit() and len(raw) <= 12 else 0
    app = request.app[WORKPLACE].app
    now = app.clock.now()
    try:
        async with app.db.transaction() as conn:
            record = await roster.get_import(conn, import_id)
            if record is None or record.person_id != staff.person.id:
                return message_page(request, "web_not_found_title", "web_not_found_body", status=404)
            if not await roster.claim_import(conn, import_id, now):
                return message_page(request, "people_import_title", "people_import_not_waiting", status=409)
            added, updated = await _write(conn, record.kind, json.loads(record.payload), now)
            await roster.count_import(conn, import_id, added, updated)
            await roster.record_event(conn, now, staff.person.id, "import", None, f"{record.kind}:{import_id}")
    except _Stale:
        return message_page(request, "people_import_title", "people_import_stale", status=409)
    log.info("workplace: %s import %d written by %s: %d added, %d updated", record.kind, import_id,
             staff.person.id, added, updated)
    t = app.services.texts.t
    done = t("people_import_done", added=added, updated=updated) if record.kind == ImportKind.STAFF else t(
        "people_import_tags_done", added=added)
    return render(request, "message.html", {"title_key": "people_import_title", "body_key": "people_import_done_body",
                                            "messages": (done,)})


async def _write(conn: Connection, kind: str, payload: dict[str, Any], now: datetime) -> tuple[int, int]:
    """Write the checked rows; (added, updated)."""
    if kind == ImportKind.STAFF:
        return await roster.write_staff(conn, [StaffRecord(**e) for e in payload["staff"]])
    tags = [(int(r), tuple(names)) for r, names in payload["tags"]]
    if await roster.existing_residents(conn, tuple(r for r, _ in tags)) != {r for r, _ in tags}:
        raise _Stale()  # the transaction rolls back: the claim too
    return await roster.write_tags(conn, tags, now), 0
