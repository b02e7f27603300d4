"""The 三率 dashboard (/staff/dashboard) over HTTP: its numbers are /stats's and `fengshan-bot
stats`'s (the same text, from the same query), the scopes a person may choose (a forged one is
404 and shows nothing), periods (a bad one is a clear message and nothing else), no session →
sign in, the grid ranking with small samples apart, durations, 不满意 reasons and overdue per level.

Tickets are written through the audit log with chosen times (tests/flows/test_stats.py's Log);
now is the fake clock's 2026-11-26 10:00 in Shanghai.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.app import App
from handlers.stats import stats_text
from storage import periods, tickets
from storage.stats import Scope
from storage.tickets import EventAction
from tests.flows.test_stats import Log, november, utc  # noqa: F401 (november: a fixture)
from tests.web_harness import page, sign_in, workplace

TZ = "Asia/Shanghai"


def cell(body: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', body)
    assert found is not None, element_id
    return found.group(1)


def rows(body: str, table_id: str) -> list[list[str]]:
    """The table's body rows, each cell's text."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', body, re.DOTALL)
    assert table is not None, table_id
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>",
                                                                                  table.group(1))]


async def the_stats(app: App, scope: Scope, period: periods.Period) -> list[str]:
    async with app.db.transaction() as conn:
        return (await stats_text(conn, app.services, app.clock.now(), scope, period)).splitlines()


async def test_the_numbers_are_those_of_stats(app: App, november: None) -> None:  # noqa: F811
    async with workplace(app) as client:
        await sign_in(client, app, "sd-admin-1")
        status, body = await page(client, "/staff/dashboard?scope=longchi&period=month")
    assert status == 200
    lines = await the_stats(app, Scope(community_id="longchi"), periods.month_period(2026, 11, TZ))
    # 工单 3 件（另有 1 件…）/ 响应率 67%（2/3）/ 办结率 67%（2/3）/ 满意率 100%（2/2）/ 当前超时工单 1 件
    assert lines[2:5] == [f"响应率 {cell(body, 'dash-response')}", f"办结率 {cell(body, 'dash-resolution')}",
                          f"满意率 {cell(body, 'dash-satisfaction')}"]
    assert (cell(body, "dash-response"), cell(body, "dash-resolution")) == ("67%（2/3）", "67%（2/3）")
    assert lines[1].startswith(f"工单 {cell(body, 'dash-tickets')}") and cell(body, "dash-withdrawn") == "1 件"
    assert lines[5] == f"当前超时工单 {cell(body, 'dash-overdue')}"
    assert "【三率】龙池社区 · 2026年11月" in body
    # The trend: six months up to November, the same counts month by month.
    trend = rows(body, "dash-trend")
    assert [r[0] for r in trend] == [f"2026年{m}月" for m in range(6, 12)]
    october = await the_stats(app, Scope(community_id="longchi"), periods.month_period(2026, 10, TZ))
    assert trend[4][2:5] == [line.split(" ", 1)[1] for line in october[2:5]]  # #6: 100%, 0% (reopened), 0%
    chart = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', body, re.DOTALL).group(1))  # type: ignore[union-attr]
    assert chart["chart"]["series"]["resolution"][-2:] == [0, 67]


async def test_scopes_are_limited_to_what_the_person_may_see(app: App, november: None) -> None:  # noqa: F811
    async with workplace(app) as client:
        await sign_in(client, app, "longchi-staff-1")
        status, body = await page(client, "/staff/dashboard")
        assert status == 200 and "【三率】龙池社区 · 2026年11月" in body
        options = re.findall(r'<option value="([^"]+)"', body)
        assert "all" not in options and "nanqiao" not in options and "G11" not in options
        assert options[:3] == ["longchi", "G01", "G02"]
        assert (await page(client, "/staff/dashboard?scope=G07"))[0] == 200
        for forged in ("nanqiao", "G11", "all", "街道", "G01' OR '1'='1", "G99"):
            status, body = await page(client, f"/staff/dashboard?scope={forged}")
            assert status == 404, forged
            assert "响应率" not in body and "dash-response" not in body, forged
    async with workplace(app) as client:
        await sign_in(client, app, "g01-leader")
        status, body = await page(client, "/staff/dashboard")
        assert status == 200 and "【三率】G01 龙池花园第一网格" in body
        assert re.findall(r'<option value="([^"]+)"', body)[:1] == ["G01"]
        assert (await page(client, "/staff/dashboard?scope=G07"))[0] == 404
        assert (await page(client, "/staff/dashboard?scope=longchi"))[0] == 404
    async with workplace(app) as client:
        await sign_in(client, app, "post-longchi")  # a responder: work by category
        status, body = await page(client, "/staff/dashboard")
        assert status == 403 and "暂无三率统计" in body and "dash-response" not in body


async def test_periods_and_bad_input(app: App, november: None) -> None:  # noqa: F811
    async with workplace(app) as client:
        await sign_in(client, app, "sd-admin-1")
        for query in ("period=2026-13", "period=fortnight", "period=custom&from=2026-11-10&to=2026-11-01",
                      "period=custom&from=2026-11-01", "period=custom&from=2026-02-30&to=2026-03-01",
                      "period=custom&from=2020-01-01&to=2026-01-01"):
            status, body = await page(client, f"/staff/dashboard?{query}")
            assert status == 400, query
            assert "看不懂这个时段" in body and "dash-response" not in body, query
        status, body = await page(client, "/staff/dashboard?period=custom&from=2026-11-10&to=2026-11-12")
        assert status == 200 and "2026年11月10日–2026年11月12日" in body
        # #1 #2 (10 Nov) and #3 (12 Nov): in time 受理 #1 #3, as /stats counts them.
        assert cell(body, "dash-response") == "67%（2/3）"
        for word, title in (("week", "11月23日–11月29日"), ("quarter", "2026年第4季度"), ("year", "2026年"),
                            ("2026-10", "2026年10月")):
            status, body = await page(client, f"/staff/dashboard?period={word}")
            assert status == 200 and f"丰山街道 · {title}" in body, word


async def test_no_session_means_sign_in(app: App) -> None:
    async with workplace(app) as client:
        status, body = await page(client, "/staff/dashboard?scope=all")
    assert status == 401 and "请先登录" in body and "响应率" not in body


async def test_ranking_times_reasons_and_levels(app: App) -> None:
    """G01: six tickets (ranked); G07: two (样本不足, fewer than stats.min_sample = 5)."""
    start = utc(2026, 11, 2, 1)  # Monday 2 November, 09:00 in Shanghai
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        for minutes in (10, 20, 30, 40, 50, 60):  # 受理 after these; 办结 after as many hours
            ticket = await log.ticket(start, "G01")
            await log.event(ticket, start + timedelta(minutes=minutes), EventAction.ACKNOWLEDGED)
            await log.event(ticket, start + timedelta(hours=minutes), EventAction.RESOLVED)
        # 政策咨询 counts working time: filed Friday 17:00, answered Monday 09:30 = 1 working hour.
        friday = utc(2026, 11, 6, 9)
        policy = await log.ticket(friday, "G07", category="policy")
        await log.event(policy, utc(2026, 11, 9, 1, 30), EventAction.ACKNOWLEDGED)
        await log.event(policy, utc(2026, 11, 9, 2), EventAction.RESOLVED)
        await tickets.add_event(conn, policy, utc(2026, 11, 9, 3), "resident", str(log.resident),
                                EventAction.RATED, "路灯还是不亮，电话13812345678", data={"rating": "unsatisfied"})
        await tickets.add_event(conn, policy, utc(2026, 11, 9, 3), "system", "rating", EventAction.REOPENED)
        late = await log.ticket(utc(2026, 11, 20, 2), "G07")  # never acknowledged: overdue at the grid
        await tickets.update_ticket(conn, late, utc(2026, 11, 20, 2), escalation_level=2)
    async with workplace(app) as client:
        await sign_in(client, app, "sd-admin-1")
        status, body = await page(client, "/staff/dashboard?scope=longchi&period=month")
    assert status == 200
    assert [r[:3] for r in rows(body, "dash-ranking")] == [["1", "G01 龙池花园第一网格", "6"]]
    assert [r[:2] for r in rows(body, "dash-small")] == [["G07 琅琊新村第二网格", "2"]]
    assert "样本不足：本期少于 5 件" in body and "另有 8 个网格本期无工单。" in body
    # First response over 7 tickets: 10, 20 … 60 min and the 政策咨询's 90 working minutes
    # (Friday 17:00–17:30, Monday 08:30–09:30; 64 hours by the clock). Median 40 min; 90th
    # percentile 60 + 0.4 × 30 = 72 min, shown as /stats shows durations (whole hours).
    response = rows(body, "dash-times")[0]
    assert response == ["首次响应", "7", "40 分钟", "1 小时"]
    assert rows(body, "dash-times")[1][:2] == ["办结", "6"]  # the 政策咨询 was reopened: not 办结
    assert "本期工单共收到 1 次不满意，其中 0 次未说明原因。" in body
    assert "路灯还是不亮" in body and "13812345678" not in body  # numbers masked as in chat
    levels = rows(body, "dash-levels")
    assert [r[0] for r in levels] == ["网格", "网格指导员", "社区", "街道"]
    assert levels[2][1:] == ["1", "0"] and levels[0][1:] == ["0", "0"]
