"""The workplace from the command line: `fengshan-bot web-login --person ID` prints a one-time
link (for the first admin of a new install), and the console (also `run` without tokens) starts
the workplace on its own database and prints a sign-in link for the first admin at once, which
signs in over HTTP while the console runs."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.test_cli import ROOT, run_cli, write_config

LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/staff/login\?token=([A-Za-z0-9_-]{40,})")


def test_web_login_prints_a_link_for_a_person(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda d: d.update(http={"public_url": "https://fengshan.example.cn"}))
    result = run_cli("--config", str(path), "web-login", "--person", "sd-admin-1")
    assert result.returncode == 0, result.stderr
    assert "许文博 (sd-admin-1)" in result.stdout and "10 分钟内有效" in result.stdout
    assert re.search(r"^https://fengshan\.example\.cn/staff/login\?token=[A-Za-z0-9_-]{40,}$", result.stdout, re.M)
    unknown = run_cli("--config", str(path), "web-login", "--person", "nobody")
    assert unknown.returncode == 2 and "unknown person 'nobody'" in unknown.stderr


@pytest.mark.timeout(60)
async def test_the_console_prints_a_link_that_signs_in(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(path), "run", cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None and process.stdin is not None
    lines: list[str] = []
    found = None
    while found is None:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        assert line, "".join(lines)
        lines.append(line)
        found = LINK.search(line)
    base, token = found.groups()
    note = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    assert "许文博的一次性登录链接（10 分钟内有效）" in note
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            async with client.post(f"{base}/staff/login", data={"token": token}) as signed:
                assert signed.status == 200 and "工单看板" in await signed.text()
            async with client.get(f"{base}/staff/overdue") as overdue:
                assert overdue.status == 200 and "许文博" in await overdue.text()
    finally:
        process.stdin.write(b"/quit\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
