"""Playwright for Python driving Debian's headless Chromium (playwright install cannot download a
browser here): launched by path with a fresh profile and Chromium's own background connections
off, so the only traffic is to the bot on 127.0.0.1. A missing browser fails, it never skips."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A port for the bot's server whose number the sign-in links must carry before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium and "
                    "fonts-wqy-microhei (`apt-get install -y chromium fonts-wqy-microhei`; .ci/run does it)")


@asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[BrowserContext]:
    require_chromium()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=ARGS, headless=True, locale="zh-CN",
            viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            await context.close()
