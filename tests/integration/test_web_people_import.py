"""人员 → 导入 over HTTP (issue 15): a dry run names every row's problem and writes nothing; a
file without problems is written on confirmation, once, in one transaction; imported people
survive the next start's config sync; care tags reach the resident's 我的数据; admins only."""

from __future__ import annotations

import io
import re

import aiohttp
import openpyxl
from aiohttp.test_utils import TestClient

from bot.app import App
from bot.bootstrap import staff_seeds
from handlers.domain.model import Role
from storage.accounts import people_with_role, sync_people
from storage.roster import recent_imports
from tests.chat import ChatUser, file_report, query
from tests.web_harness import page, sign_in, workplace

HEADER = "社区,网格,角色,姓名,电话,编号\n"
GOOD = HEADER + "龙池社区,G01,网格员,钱新苗,13905507701,imp-g01-w3\n龙池社区,龙池花园第二网格,worker,孙立新,,imp-g02-w3\n"
BAD = HEADER + "龙池社区,G01,网格员,钱新苗,13905507701,imp-g01-w3\n龙池社区,G99,网格员,孙立新,,imp-g02-w3\n"
CONFIRM = re.compile(r'action="/staff/people/import/(\d+)/confirm"')


async def upload(client: TestClient, csrf: str, kind: str, data: bytes, name: str = "roster.csv") -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("kind", kind)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    response = await client.post("/staff/people/import", data=form)
    return response.status, await response.text()


async def people_count(app: App) -> int:
    return (await query(app, "SELECT COUNT(*) FROM people"))[0][0]


async def test_a_bad_row_is_named_and_nothing_is_written(app: App) -> None:
    before = await people_count(app)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await upload(client, csrf, "staff", BAD.encode("utf-8-sig"))
        assert status == 422 and "第 3 行" in body and "没有名为「G99」的网格" in body
        assert "第 2 行" not in body and CONFIRM.search(body) is None
    assert await people_count(app) == before
    async with app.db.read() as conn:
        [record] = await recent_imports(conn)
    assert (record.status, record.rows, record.problems, record.payload) == ("refused", 2, 1, "")


async def test_a_good_roster_is_written_once_on_confirmation_and_survives_the_config_sync(app: App) -> None:
    before = await people_count(app)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await upload(client, csrf, "staff", GOOD.encode("gbk"))  # as Excel saves it in China
        assert status == 200 and "2 行全部通过检查" in body, body
        assert "<td>钱新苗</td><td>党员网格员</td><td>龙池花园第一网格</td>" in body
        assert await people_count(app) == before  # a dry run writes nothing
        import_id = CONFIRM.search(body).group(1)  # type: ignore[union-attr]
        done = await client.post(f"/staff/people/import/{import_id}/confirm", data={"csrf": csrf})
        assert done.status == 200 and "新增 2 人" in await done.text()
        again = await client.post(f"/staff/people/import/{import_id}/confirm", data={"csrf": csrf})
        assert again.status == 409
        roster = (await page(client, "/staff/people"))[1]
        assert "钱新苗" in roster and "孙立新" in roster and "导入" in roster
    assert await people_count(app) == before + 2
    async with app.db.transaction() as conn:  # the next start
        await sync_people(conn, staff_seeds(app.config), app.clock.now())
    async with app.db.read() as conn:
        workers = [p.id for p in await people_with_role(conn, Role.WORKER, grid_id="G01")]
        [record] = await recent_imports(conn)
    assert "imp-g01-w3" in workers  # still active: routing and the roster find them
    assert (record.status, record.added, record.updated, record.payload) == ("done", 2, 0, "")


async def test_an_id_config_lists_is_refused(app: App) -> None:
    roster = HEADER + "龙池社区,G01,网格长,冒名,13905507701,g01-leader\n"
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await upload(client, csrf, "staff", roster.encode())
    assert status == 422 and "g01-leader 是配置文件中的人员" in body
    assert await query(app, "SELECT name, source FROM people WHERE id = 'g01-leader'") == [("万秀英", "config")]


async def test_care_tags_from_xlsx_reach_my_data(app: App, resident: ChatUser) -> None:
    await file_report(resident, phone="13812345678")
    resident_id = (await resident.account()).resident_id
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["电话", "居民编号", "标签"])
    sheet.append([13812345678, None, "独居老人、低保"])  # Excel keeps a phone as a number
    sheet.append([None, resident_id, "残疾人"])
    data = io.BytesIO()
    book.save(data)
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await upload(client, csrf, "tags", data.getvalue(), "tags.xlsx")
        assert status == 422 and "与第 2 行是同一位居民" in body  # the same resident twice
        sheet.delete_rows(3)
        data = io.BytesIO()
        book.save(data)
        status, body = await upload(client, csrf, "tags", data.getvalue(), "tags.xlsx")
        assert status == 200, body
        import_id = CONFIRM.search(body).group(1)  # type: ignore[union-attr]
        done = await client.post(f"/staff/people/import/{import_id}/confirm", data={"csrf": csrf})
        assert done.status == 200 and "新增 2 个标签" in await done.text()
        await sign_in(client, app, "g01-leader")  # handles the resident's ticket: sees the tags, one line
        assert '<dd id="care-tags">低保、独居老人</dd>' in (await page(client, "/staff/tickets/1"))[1]
    await resident.say("我的数据")
    assert "独居老人" in resident.text and "低保" in resident.text


async def test_unknown_tags_and_residents_are_named(app: App, resident: ChatUser) -> None:
    await file_report(resident, phone="13812345678")
    async with workplace(app) as client:  # no tags: no line on the ticket page
        await sign_in(client, app, "g01-leader")
        assert 'id="care-tags"' not in (await page(client, "/staff/tickets/1"))[1]
    tags = "电话,标签\n13812345678,独居老人、VIP\n13900000000,低保\n12345,低保\n"
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        status, body = await upload(client, csrf, "tags", tags.encode())
    assert status == 422
    assert "标签「VIP」不在可用标签中" in body and "没有电话为 139****0000 的居民" in body
    assert "第 4 行" in body and "电话号码格式不对" in body and "13900000000" not in body
    assert await query(app, "SELECT COUNT(*) FROM resident_tags") == [(0,)]


async def test_imports_are_for_admins_with_a_csrf_token_and_files_within_limits(app: App) -> None:
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "longchi-staff-1")
        assert (await upload(client, csrf, "staff", GOOD.encode()))[0] == 403
    async with workplace(app) as client:
        csrf = await sign_in(client, app, "sd-admin-1")
        assert (await upload(client, "forged", "staff", GOOD.encode()))[0] == 403
        status, body = await upload(client, csrf, "staff", HEADER.encode() + b"x" * (2 * 1024 * 1024))
        assert status == 413 and "文件太大" in body
        status, body = await upload(client, csrf, "staff", HEADER.encode() + b"a,b,c,d,e,f\n" * 2001)
        assert status == 422 and "行数太多" in body
        status, body = await upload(client, csrf, "staff", "社区,网格,姓名\n龙池社区,G01,钱新苗\n".encode())
        assert status == 422 and "缺少列：角色、电话、编号" in body
        status, body = await upload(client, csrf, "staff", GOOD.encode())
        import_id = CONFIRM.search(body).group(1)  # type: ignore[union-attr]
    async with workplace(app) as other:  # another admin cannot confirm someone else's dry run
        csrf = await sign_in(other, app, "sd-admin-2")
        response = await other.post(f"/staff/people/import/{import_id}/confirm", data={"csrf": csrf})
        assert response.status == 404
    assert await query(app, "SELECT COUNT(*) FROM people WHERE source = 'import'") == [(0,)]
