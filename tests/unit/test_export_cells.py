"""The export writers' pure parts: the formula guard on every dangerous first character, the
download name's two forms, and which roles get the personal columns."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.web.exports_columns import ticket_columns
from bot.web.exports_write import content_disposition, safe_cell, write_xlsx
from handlers.domain.model import Role


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd",
                                  '=HYPERLINK("http://evil.example/","点我")'])
def test_a_cell_that_would_start_a_formula_gets_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["3栋楼道灯坏了", "a=b", "", 12, -3, None, "'=已转义"])
def test_other_cells_are_left_as_they_are(value: str | int | None) -> None:
    assert safe_cell(value) == value  # numbers stay numbers: a count of -3 is no formula


def test_the_download_name_has_an_ascii_fallback_and_the_utf8_form() -> None:
    assert content_disposition("tickets-20261130-1305.csv", "工单-20261130-1305.csv") == (
        "attachment; filename=\"tickets-20261130-1305.csv\"; "
        "filename*=UTF-8''%E5%B7%A5%E5%8D%95-20261130-1305.csv")


@pytest.mark.parametrize("role", list(Role))
def test_only_routed_roles_have_the_personal_columns(role: Role) -> None:
    keys = [c.header_key for c in ticket_columns(role)]
    if role is Role.WORKER:
        assert "web_field_phone" not in keys and "web_export_col_detail" not in keys
        assert "web_field_location" not in keys and "web_export_col_phone_masked" in keys
    else:
        assert {"web_field_phone", "web_export_col_detail", "web_field_location"} <= set(keys)
        assert "web_export_col_phone_masked" not in keys


def spooled(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


class Sink:
    """Stands for the browser's connection: what the writer sent."""

    def __init__(self) -> None:
        self.sent = b""

    async def write(self, data: bytes) -> None:
        self.sent += data

    async def write_eof(self) -> None:
        pass


async def test_a_failed_xlsx_export_leaves_no_rows_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl spools a write-only sheet to a temporary file it removes only on save (or at exit):
    a read failing mid-export removes it at once, and nothing was sent."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the stdlib's, so openpyxl spools here

    async def batches() -> AsyncIterator[list[list[str | int | None]]]:
        yield [[1, "3栋楼道灯坏了", "13812345678"]]
        raise ConnectionError("database gone")

    sink = Sink()
    with pytest.raises(ConnectionError):
        await write_xlsx(sink, "工单", ["工单", "描述", "联系电话"], batches())  # type: ignore[arg-type]
    assert spooled(tmp_path) == [] and sink.sent == b""
