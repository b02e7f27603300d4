"""Exports from the workplace over HTTP: the board's filtered list in the person's scope (a leader's
holds only her grid), the personal columns per role, sign-in and CSRF, formula injection, the
download headers, the record of each export and the admins' list, and the 三率 table (the same
counts as storage/stats.py gives /stats)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from bot.app import App
from handlers.stats import category_hours
from storage import stats
from storage.accounts import ensure_account
from storage.db import fetch_all
from storage.periods import period_for
from storage.tickets import NewTicket, create_ticket
from tests.chat import ChatUser, file_report
from tests.web_harness import page, sign_in, workplace

INJECTION = '=HYPERLINK("http://evil.example/","点我领补贴")'


async def two_grids(app: App, resident: ChatUser) -> None:
    """#1 in G01 (龙池花园3栋, flat 2单元302, phone), #2 in G02 (龙池花园10栋), #3 in G11 (南桥新村)."""
    await file_report(resident, description="3栋楼道灯坏了", address="龙池花园3栋2单元302", phone="13812345678")
    await file_report(ChatUser(app, "resident-2"), description="10栋水管漏水", address="龙池花园10栋")
    await file_report(ChatUser(app, "resident-3"), description="南桥路灯不亮", address="南桥新村1栋")


async def export(client: TestClient, csrf: str, fmt: str = "csv", path: str = "/staff/exports/tickets",
                 **fields: str) -> tuple[int, dict[str, str], bytes]:
    response = await client.post(path, data={"csrf": csrf, "format": fmt, **fields})
    return response.status, dict(response.headers), await response.read()


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


def xlsx_rows(body: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def records(app: App) -> list[tuple]:
    async with app.db.read() as conn:
        return [tuple(r) for r in await fetch_all(
            conn, "SELECT person_id, kind, format, filter, row_count FROM exports ORDER BY id")]


async def test_a_leaders_export_holds_only_her_grid_with_the_phone_in_full(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        status, _, body = await export(client, csrf)
    rows = csv_rows(body)
    assert status == 200 and [r[0] for r in rows[1:]] == ["1"], rows
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["联系电话"] == "13812345678" and line["单元门牌"] == "2单元302"
    assert line["描述"] == "3栋楼道灯坏了" and line["网格"] == "龙池花园第一网格"
    assert "漏水" not in body.decode("utf-8") and "南桥" not in body.decode("utf-8")


async def test_the_header_row_per_role(app: App, resident: ChatUser) -> None:
    """Routed roles (leader, responder, guide, community staff, admin) get the phone in full, the
    flat and the location; a grid worker, never routed a ticket, the phone masked and neither."""
    await two_grids(app, resident)
    common = ["工单", "状态", "类别", "社区", "网格", "地址"]
    personal = [*common, "单元门牌", "联系电话", "位置", "描述"]
    masked = [*common, "联系电话（隐藏中间四位）", "描述"]
    expected = {"g01-leader": (personal, ["1"]), "g01-guide": (personal, ["1"]), "g01-w1": (masked, ["1"]),
                "longchi-staff-1": (personal, ["1", "2"]), "sd-admin-1": (personal, ["1", "2", "3"])}
    for person, (head, ids) in expected.items():
        async with workplace(app) as client:
            csrf = await sign_in(client, app, person)
            status, _, body = await export(client, csrf)
        rows = csv_rows(body)
        assert status == 200 and rows[0][:len(head)] == head, (person, rows[0])
        assert rows[0][len(head):] == ["提交时间", "受理时限", "办结时限", "是否超时", "当前层级", "办理结果", "居民评价"]
        assert sorted(r[0] for r in rows[1:]) == ids, (person, rows)
        text = body.decode("utf-8")
        if head is masked:
            assert "13812345678" not in text and "138****5678" in text and "2单元302" not in text
        else:
            assert "13812345678" in text


async def test_a_responder_exports_her_categories_in_her_community(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    await file_report(ChatUser(app, "resident-4"), category="代充燃气", description="帮忙充燃气",
                      address="龙池花园5栋", phone="13912345678")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "post-longchi")
        status, _, body = await export(client, csrf)
    rows = csv_rows(body)
    assert status == 200 and "联系电话" in rows[0] and [r[0] for r in rows[1:]] == ["4"], rows


async def test_the_filter_is_the_boards(app: App, resident: ChatUser) -> None:
    """The same filter as the board shows (words, grid): the same tickets, in the board's order."""
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        _, board = await page(client, "/staff/?q=%E6%BC%8F%E6%B0%B4")  # 漏水
        _, _, words = await export(client, csrf, q="漏水")
        _, _, grid = await export(client, csrf, "xlsx", grid="G11")
        _, everything = await page(client, "/staff/")
        _, _, whole = await export(client, csrf, "xlsx")
    shown = re.findall(r'data-ticket="(\d+)"', board)
    assert shown == ["2"] and [r[0] for r in csv_rows(words)[1:]] == shown
    assert [r[0] for r in xlsx_rows(grid)[1:]] == [3]
    assert [str(r[0]) for r in xlsx_rows(whole)[1:]] == re.findall(r'data-ticket="(\d+)"', everything)


async def test_without_a_session_the_answer_is_sign_in(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        response = await client.post("/staff/exports/tickets", data={"format": "csv"})
        body = await response.text()
        status, exports_page = await page(client, "/staff/exports")
    assert response.status == 401 and "请先登录" in body and "漏水" not in body
    assert status == 401 and "请先登录" in exports_page
    assert await records(app) == []


async def test_without_the_csrf_token_nothing_is_exported(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        missing = await client.post("/staff/exports/tickets", data={"format": "csv"})
        wrong = await client.post("/staff/exports/rates", data={"format": "csv", "csrf": csrf[::-1]})
        missing_body, wrong_body = await missing.text(), await wrong.text()
    assert missing.status == 403 and wrong.status == 403 and "操作未生效" in missing_body + wrong_body
    assert "漏水" not in missing_body and await records(app) == []


async def test_a_formula_in_a_residents_text_stays_text(app: App, resident: ChatUser) -> None:
    await file_report(resident, description=INJECTION)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        _, _, as_csv = await export(client, csrf)
        _, _, as_xlsx = await export(client, csrf, "xlsx")
    described = csv_rows(as_csv)[1][csv_rows(as_csv)[0].index("描述")]
    assert described == "'" + INJECTION
    sheet = load_workbook(io.BytesIO(as_xlsx)).active
    assert sheet is not None
    column = [c.value for c in sheet[1]].index("描述") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.value == "'" + INJECTION and cell.data_type == "s"  # a string, not a formula


async def test_download_headers(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        _, as_csv, _ = await export(client, csrf)
        _, as_xlsx, body = await export(client, csrf, "xlsx")
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert as_xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for headers, ext in ((as_csv, "csv"), (as_xlsx, "xlsx")):
        disposition = headers["Content-Disposition"]
        assert re.fullmatch(rf'attachment; filename="tickets-\d{{8}}-\d{{4}}\.{ext}"; '
                            rf"filename\*=UTF-8''%E5%B7%A5%E5%8D%95-\d{{8}}-\d{{4}}\.{ext}", disposition), disposition
        assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert body.startswith(b"PK")  # a zip: a real workbook


async def test_each_export_is_recorded_and_admins_see_the_list(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        await export(client, csrf, q="13812345678", status="routed")
        await export(client, csrf, "xlsx")
        _, leaders_page = await page(client, "/staff/exports")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        await export(client, csrf, "xlsx", "/staff/exports/rates", scope="longchi", period="month")
        status, admins_page = await page(client, "/staff/exports")
    rows = await records(app)
    longchi_rows = 1 + sum(1 for g in app.services.config.grids if g.community == "longchi")  # and its grids
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [("g01-leader", "tickets", "csv", 0),
                                                        ("g01-leader", "tickets", "xlsx", 1),
                                                        ("sd-admin-1", "rates", "xlsx", longchi_rows)]
    # The words searched for are kept masked: a phone typed into the filter is not stored whole.
    assert json.loads(rows[0][3]) == {"q": "138****5678", "status": "routed"}
    assert json.loads(rows[2][3])["scope"] == "longchi"
    assert "最近的导出记录" not in leaders_page and 'id="export-records"' not in leaders_page
    listed = re.search(r'<table class="tickets" id="export-records">(.*?)</table>', admins_page, re.S)
    assert status == 200 and listed is not None
    assert listed.group(1).count("万秀英") == 2 and "三率统计" in listed.group(1)  # who, and what
    assert "13812345678" not in admins_page and "138****5678" in listed.group(1)


async def test_the_boards_export_form_keeps_the_words_out_of_the_url(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")
        _, board = await page(client, "/staff/?q=%E7%81%AF")  # 灯
    form = re.search(r'<form method="post" action="/staff/exports/tickets"[^>]*>(.*?)</form>', board, re.S)
    assert form is not None and '<input type="hidden" name="q" value="灯">' in form.group(1)
    assert 'value="csv"' in form.group(1) and 'value="xlsx"' in form.group(1) and "导出 Excel" in form.group(1)


async def test_the_rates_table_has_the_counts_of_stats(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, headers, body = await export(client, csrf, "csv", "/staff/exports/rates", period="month")
    rows = csv_rows(body)
    assert status == 200 and rows[0][:4] == ["层级", "社区", "网格", "工单数"]
    assert "filename*=UTF-8''%E4%B8%89%E7%8E%87-" in headers["Content-Disposition"]
    period = period_for("month", app.clock.now(), app.services.timezone)
    hours = category_hours(app.services.config)
    async with app.db.transaction() as conn:
        total = await stats.rates(conn, period, stats.SUBDISTRICT, hours, now=app.clock.now())
        g01 = await stats.rates(conn, period, stats.Scope(grid_id="G01"), hours, now=app.clock.now())
    assert rows[1][:4] == ["街道", "", "", str(total.tickets)] and total.tickets == 3
    g01_row = next(r for r in rows if r[2] == "龙池花园第一网格")
    assert g01_row[:5] == ["网格", "龙池社区", "龙池花园第一网格", str(g01.tickets), str(g01.withdrawn)]
    assert rows[0][5:9] == ["时限内待处理", "应响应", "按时响应", "响应率(%)"]
    # Nobody acted yet, all inside their windows: waiting, not missed — no rate yet.
    assert g01_row[5:9] == [str(g01.pending), "0", "0", ""] and g01.pending == g01.tickets > 0
    assert any(r[0] == "社区" and r[1] == "龙池社区" and r[3] == "2" for r in rows)


async def test_the_rates_follow_who_may_read_stats(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        refused, _, leader_body = await export(client, csrf, "csv", "/staff/exports/rates")
        _, leaders_page = await page(client, "/staff/exports")
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "longchi-staff-1")
        other, _, _ = await export(client, csrf, "csv", "/staff/exports/rates", scope="G11")
        own, _, body = await export(client, csrf, "xlsx", "/staff/exports/rates", scope="", period="last-month")
    assert refused == 403 and "三率" in leader_body.decode("utf-8") and "三率统计表仅供" in leaders_page
    assert other == 403 and own == 200
    table = xlsx_rows(body)
    assert table[0][0] == "层级" and {r[1] for r in table[1:]} == {"龙池社区"} and table[1][0] == "社区"
    assert all(r[3] == 0 for r in table[1:])  # last month had no tickets


async def test_a_long_list_comes_whole_in_batches_past_the_boards_200(app: App) -> None:
    """450 tickets in G01, due one minute apart: the board shows its first 200, the export every
    one, in the board's order (soonest due first), read in batches of 200."""
    now = app.clock.now()
    async with app.db.transaction() as conn:
        resident = await ensure_account(conn, "console", "resident-1", "resident-1", "居民", now)
        for n in range(450):
            await create_ticket(conn, NewTicket(
                resident_id=resident.resident_id, category_id="repair", description=f"第{n}号", community_id="longchi",
                compound="龙池花园", building="3栋", grid_id="G01", phone="", latitude=None, longitude=None,
                source_channel="console", ack_due_at=now + timedelta(minutes=450 - n),
                resolve_due_at=now + timedelta(days=2)), now)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "g01-leader")
        _, board = await page(client, "/staff/")
        status, _, body = await export(client, csrf)
        _, _, book = await export(client, csrf, "xlsx")
    shown = re.findall(r'data-ticket="(\d+)"', board)
    rows = csv_rows(body)
    assert status == 200 and len(shown) == 200 and len(rows) == 451
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(450, 0, -1)] and [r[0] for r in rows[1:201]] == shown
    assert [r[0] for r in xlsx_rows(book)[1:]] == list(range(450, 0, -1))
    assert (await records(app))[0][4] == 450


async def test_a_month_picked_on_the_exports_page(app: App, resident: ChatUser) -> None:
    await two_grids(app, resident)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, form_page = await page(client, "/staff/exports")
        month = app.clock.now().strftime("%Y-%m")
        _, headers, body = await export(client, csrf, "csv", "/staff/exports/rates", period="year", month=month)
        _, _, earlier = await export(client, csrf, "csv", "/staff/exports/rates", month="2025-01")
        bad, _, answer = await export(client, csrf, "csv", "/staff/exports/rates", month="2025-13")
    assert status == 200 and 'action="/staff/exports/rates"' in form_page and "本季度" in form_page
    assert "%E5%B9%B4" in headers["Content-Disposition"]  # 「年」 of the month's label
    assert csv_rows(body)[1][3] == "3" and csv_rows(earlier)[1][3] == "0"
    assert bad == 400 and "无法导出" in answer.decode("utf-8")
    assert len(await records(app)) == 2  # the bad request made no export and no record
