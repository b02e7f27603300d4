"""Writing an export to the browser: CSV or XLSX, streamed.

CSV goes out batch by batch as it is read (UTF-8 with a BOM, so Excel opens Chinese correctly);
nothing holds the whole file. XLSX is a zip that can only be finished at the end: openpyxl's
write-only workbook writes each batch's rows to its own temporary file as they come, the
workbook is saved into an anonymous temporary file, and that is sent in chunks.

Cells a spreadsheet would run as a formula (starting with = + - @, a tab or a CR) get a leading
apostrophe, in both formats (OWASP's CSV-injection advice): a resident's 「=HYPERLINK(…)」 stays
text.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Sequence
from urllib.parse import quote

from aiohttp import web
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.web.security import content_security_policy
from storage.exports import ExportFormat

Cell = str | int | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8",
         ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def safe_cell(value: Cell) -> Cell:
    """A text cell that would start a formula, with a leading apostrophe; numbers as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def content_disposition(ascii_name: str, name: str) -> str:
    """An attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def start(request: web.Request, fmt: ExportFormat, ascii_name: str, name: str,
                tiles: str) -> web.StreamResponse:
    """The response's headers, sent now (the security middleware cannot add to a response that
    is already under way, so the workplace's headers are set here too)."""
    response = web.StreamResponse(headers={
        "Content-Type": TYPES[fmt], "Content-Disposition": content_disposition(ascii_name, name),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer", "Content-Security-Policy": content_security_policy(tiles)})
    await response.prepare(request)
    return response


def _csv_text(rows: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([["" if v is None else safe_cell(v) for v in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


async def write_csv(response: web.StreamResponse, header: Sequence[str],
                    batches: AsyncIterator[Sequence[Sequence[Cell]]]) -> None:
    await response.write(b"\xef\xbb\xbf" + _csv_text([header]))
    async for rows in batches:
        if rows:
            await response.write(_csv_text(rows))
    await response.write_eof()


def _xlsx_cell(value: Cell) -> Cell:
    value = safe_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub(" ", value) if isinstance(value, str) else value


async def write_xlsx(response: web.StreamResponse, title: str, header: Sequence[str],
                     batches: AsyncIterator[Sequence[Sequence[Cell]]]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    try:
        async for rows in batches:
            for row in rows:  # a batch at a time on the loop: openpyxl streams them to its temp file
                sheet.append([_xlsx_cell(v) for v in row])
            await asyncio.sleep(0)
    except BaseException:
        # openpyxl removes its sheet's temporary file only when the book is saved (else at exit):
        # a read that failed or a cancelled request must not leave residents' rows on disk.
        sheet.close()
        sheet._writer.cleanup()  # noqa: SLF001 — openpyxl's one way to remove it before exit
        raise
    with tempfile.TemporaryFile() as spool:
        # Zipping the sheet is the one long blocking step (seconds for a large export): it runs on
        # the loop's default executor so the channels keep answering; nothing else touches `book`.
        await asyncio.to_thread(book.save, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            await response.write(chunk)
    await response.write_eof()
