"""Roster import rows (issue 15): reading CSV in UTF-8 with or without BOM, GBK, and XLSX; every
row's problem with its row number (unknown grid, a grid of another community, bad phone,
duplicate id, an id config.yaml lists, unknown role, unknown tag, missing columns, too many rows,
too large a file); a clean file checks out whole."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.config import Config
from handlers.roster_files import MAX_BYTES, MAX_ROWS, FileProblem, Table, read_table
from handlers.roster_import import (
    ResidentsFound,
    StaffEntry,
    check_staff,
    check_tags,
    staff_phone,
    tag_lookups,
)
from handlers.texts import ZH, Texts

t = Texts(ZH).t
HEADER = "community,grid,role,name,phone,id\n"


def table(text: str, encoding: str = "utf-8") -> Table:
    read = read_table(text.encode(encoding))
    assert isinstance(read, Table), read
    return read


def problems(checked: object) -> list[tuple[int, str]]:
    return [(p.row, p.text) for p in checked.problems]  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_excel_writes(sample_config: Config, encoding: str) -> None:
    read = table("社区,网格,角色,姓名,电话,编号\n龙池社区,G01,网格员,钱新苗,139 0550 7701,imp-1\n", encoding)
    checked = check_staff(read, sample_config, t)
    assert checked.valid and checked.staff == (
        StaffEntry("imp-1", "钱新苗", "13905507701", "worker", "G01", "longchi"),)


def test_xlsx_read_only_with_numbers_for_phones(sample_config: Config) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["社区", "网格", "角色", "姓名", "电话", "编号"])
    sheet.append(["longchi", "龙池花园第二网格", "网格长", "孙立新", 13905507702, "imp-2"])
    sheet.append(["南桥社区", None, "社区工作人员", "周文", "0550-7654321", "imp-3"])
    data = io.BytesIO()
    book.save(data)
    read = read_table(data.getvalue())
    assert isinstance(read, Table)
    checked = check_staff(read, sample_config, t)
    assert problems(checked) == []
    assert [(e.id, e.role, e.grid_id, e.community_id, e.phone) for e in checked.staff] == [
        ("imp-2", "leader", "G02", "longchi", "13905507702"), ("imp-3", "staff", None, "nanqiao", "0550-7654321")]


def test_every_bad_row_is_named(sample_config: Config) -> None:
    rows = HEADER + "\n".join([
        "longchi,G01,worker,甲,13905507701,imp-1",  # row 2: fine
        "longchi,G99,worker,乙,,imp-2",  # row 3: unknown grid
        "nanqiao,G01,worker,丙,,imp-3",  # row 4: G01 is longchi's
        "longchi,G01,worker,丁,1390550,imp-4",  # row 5: bad phone
        "longchi,G01,worker,戊,,imp-1",  # row 6: duplicate id of row 2
        "longchi,G01,boss,己,,imp-6",  # row 7: unknown role
        "longchi,G01,leader,庚,,g01-leader",  # row 8: config's person
        "moon,G01,worker,辛,,imp-8",  # row 9: unknown community
        "longchi,G01,worker,,,imp 9",  # row 10: no name, bad id
    ])
    checked = check_staff(table(rows), sample_config, t)
    assert not checked.valid and checked.rows == 9
    assert problems(checked) == [
        (3, "没有名为「G99」的网格"), (4, "网格 龙池花园第一网格 不属于这个社区"), (5, "电话号码格式不对"),
        (6, "编号 imp-1 与第 2 行重复"), (7, "角色「boss」无效（网格长、网格指导员、网格员、社区工作人员）"),
        (8, "编号 g01-leader 是配置文件中的人员，请在 config.yaml 中修改"), (9, "没有名为「moon」的社区"),
        (10, "编号「imp 9」无效（字母、数字、-、_，最长 40 位）"), (10, "姓名为空或超过 20 个字"),
    ]


def test_missing_columns_are_named(sample_config: Config) -> None:
    checked = check_staff(table("姓名,网格\n甲,G01\n"), sample_config, t)
    assert problems(checked) == [(1, "缺少列：社区、角色、电话、编号")]


@pytest.mark.parametrize(("data", "problem"), [
    (b"", FileProblem.EMPTY), (HEADER.encode(), FileProblem.EMPTY),
    (HEADER.encode() + b"a,b,c,d,e,f\n" * (MAX_ROWS + 1), FileProblem.TOO_MANY_ROWS),
    (b"x" * (MAX_BYTES + 1), FileProblem.TOO_LARGE), (b"PK\x03\x04 not a workbook", FileProblem.UNREADABLE),
    (b"\xff\xfe\x00\xd8\x00\xdc", FileProblem.ENCODING),
])
def test_file_problems(data: bytes, problem: FileProblem) -> None:
    assert read_table(data) == problem


def test_the_row_limit_is_inclusive(sample_config: Config) -> None:
    rows = HEADER + "".join(f"longchi,G01,worker,甲{n},,imp-{n}\n" for n in range(MAX_ROWS))
    assert check_staff(table(rows), sample_config, t).valid


def test_staff_phones() -> None:
    assert staff_phone("") == "" and staff_phone("+86 139-0550-7701") == "13905507701"
    assert staff_phone("0550-7654321") == "0550-7654321" and staff_phone("12345") is None


def test_tag_rows() -> None:
    read = table("电话,居民编号,标签\n13812345678,,独居老人、低保\n,7,残疾人\n,8,VIP\n13900000000,,低保\n,,低保\n13812345678,,空巢老人\n")
    assert tag_lookups(read) == (("13812345678", "13900000000"), (7, 8))
    found = ResidentsFound({"13812345678": (5,), "13900000000": ()}, frozenset({7}))
    checked = check_tags(read, ("独居老人", "低保", "残疾人", "空巢老人"), found, t)
    assert [(e.resident_id, e.tags) for e in checked.tags] == [(5, ("独居老人", "低保")), (7, ("残疾人",))]
    assert problems(checked) == [
        (4, "没有编号为 8 的居民"), (4, "标签「VIP」不在可用标签中（独居老人、低保、残疾人、空巢老人）"),
        (5, "没有电话为 139****0000 的居民"), (6, "请填写电话或居民编号"), (7, "与第 2 行是同一位居民"),
    ]
