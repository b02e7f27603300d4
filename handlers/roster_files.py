"""Reading an uploaded roster: CSV (UTF-8 with or without BOM, or GBK/GB18030 as Excel saves it
in China) or XLSX (openpyxl, read-only), into rows of named columns with their row numbers as a
spreadsheet shows them (the header is row 1). Nothing here knows what the columns mean; what is
wrong with the file as a whole is a FileProblem (handlers/roster_import.py says it to people).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 1024 * 1024  # a roster of 2 000 people is well under 200 KB as CSV
MAX_ROWS = 2000
CELL_LIMIT = 200  # characters kept of one cell: no column we read is longer
XLSX_MAGIC = b"PK\x03\x04"


class FileProblem(StrEnum):
    EMPTY = "people_import_empty"
    TOO_LARGE = "people_import_too_large"
    TOO_MANY_ROWS = "people_import_too_many_rows"
    UNREADABLE = "people_import_unreadable"
    ENCODING = "people_import_encoding"


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    cells: tuple[tuple[str, str], ...]  # (column as headed, value), stripped

    def get(self, column: str) -> str:
        return next((value for name, value in self.cells if name == column), "")


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[Row, ...]


def _cell(value: object) -> str:
    """A cell as text: a phone typed into Excel arrives as a number (13812345678 or 1.38e10)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()[:CELL_LIMIT]


def _decode(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):  # GB18030 reads every GBK file Excel writes
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _csv_lines(data: bytes) -> list[list[str]] | FileProblem:
    text = _decode(data)
    if text is None:
        return FileProblem.ENCODING
    try:
        lines = []
        for line in csv.reader(io.StringIO(text, newline="")):
            lines.append(line)
            if len(lines) > MAX_ROWS + 1:
                break
        return lines
    except csv.Error:
        return FileProblem.UNREADABLE


def _xlsx_lines(data: bytes) -> list[list[str]] | FileProblem:
    import openpyxl  # only when an XLSX file is uploaded

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return FileProblem.UNREADABLE
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return FileProblem.EMPTY
        lines = []
        for values in sheet.iter_rows(values_only=True):
            lines.append([_cell(v) for v in values])
            if len(lines) > MAX_ROWS + 1:
                break
        return lines
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return FileProblem.UNREADABLE
    finally:
        book.close()


def read_table(data: bytes) -> Table | FileProblem:
    """The file's table: told apart by its bytes (an XLSX is a zip), never by its name."""
    if len(data) > MAX_BYTES:
        return FileProblem.TOO_LARGE
    if not data.strip():
        return FileProblem.EMPTY
    lines = _xlsx_lines(data) if data.startswith(XLSX_MAGIC) else _csv_lines(data)
    if isinstance(lines, FileProblem):
        return lines
    numbered = [(n, [_cell(c) for c in line]) for n, line in enumerate(lines, start=1) if any(_cell(c) for c in line)]
    if not numbered:
        return FileProblem.EMPTY
    (_, header), body = numbered[0], numbered[1:]
    if len(body) > MAX_ROWS:
        return FileProblem.TOO_MANY_ROWS
    if not body:
        return FileProblem.EMPTY
    names = tuple(h.strip().lower() for h in header)
    rows = tuple(Row(number, tuple((name, cells[i] if i < len(cells) else "")
                                   for i, name in enumerate(names) if name)) for number, cells in body)
    return Table(names, rows)
