"""The fake WeChat API (tests/fakes/wechat_api.py) served in its own process for the benchmarks.

    PYTHONPATH=. .venv/bin/python -m bench.fake_wechat_server --port 0 [--app-secret S]

Prints `READY http://127.0.0.1:PORT` once it listens, then serves until SIGTERM/SIGINT.
`GET /_bench/calls?after=N` answers the customer-service messages and templates delivered since
the N-th accepted call (recipient, path, a short text, and the `time.monotonic()` it was
accepted: CLOCK_MONOTONIC is system-wide on Linux, so a driver compares it with its own clock),
plus the counters (tokens issued, refusals, attempts per path), so a driver in another process
can count and time deliveries.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

from aiohttp import web

from bench.common import serve_until_stopped
from tests.fakes.wechat_api import CUSTOM_SEND, TEMPLATE_SEND, FakeWeChatAPI, WeChatCall

CONTROL = "/_bench/calls"


def describe(call: WeChatCall) -> dict[str, Any]:
    """Recipient, path and the text a person would read first (customer-service or template)."""
    body = call.body or {}
    if call.path == TEMPLATE_SEND:
        data = body.get("data") or {}
        text = f"{data.get('first', {}).get('value', '')} {data.get('keyword1', {}).get('value', '')}"
    else:
        msgtype = body.get("msgtype", "")
        section = body.get(msgtype) or {}
        text = str(section.get("content") or section.get("head_content") or "")
    return {"path": call.path, "touser": body.get("touser", ""), "text": text[:200]}


class StampedCalls(list[WeChatCall]):
    """The fake's list of accepted calls, remembering when each was appended."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def append(self, call: WeChatCall) -> None:
        self.at.append(time.monotonic())
        super().append(call)


class StampedWeChatAPI(FakeWeChatAPI):
    def __init__(self, app_id: str, app_secret: str) -> None:
        super().__init__(app_id, app_secret)
        self.calls = StampedCalls()

    def report(self, after: int) -> dict[str, Any]:
        calls: StampedCalls = self.calls  # type: ignore[assignment]
        delivered = [{**describe(call), "at": at, "i": i}
                     for i, (call, at) in enumerate(zip(calls, calls.at, strict=True))
                     if i >= after and call.path in (CUSTOM_SEND, TEMPLATE_SEND)]
        refused = Counter(str(a.errcode if a.http_status == 200 else f"http{a.http_status}")
                          for a in self.attempts if a.errcode != 0)
        return {"delivered": delivered, "next": len(calls), "tokens_issued": self.tokens_issued,
                "refused": dict(refused), "attempts": dict(Counter(a.call.path for a in self.attempts))}


async def serve(port: int, app_id: str, app_secret: str) -> None:
    fake = StampedWeChatAPI(app_id, app_secret)
    app = web.Application(client_max_size=1024 * 1024)

    async def calls(request: web.Request) -> web.Response:
        return web.json_response(fake.report(int(request.query.get("after", 0))))

    # The control route first: the fake's catch-all would otherwise answer it.
    app.router.add_get(CONTROL, calls)
    app.router.add_route("*", "/{path:.*}", fake._handle)  # noqa: SLF001 - the fake's own handler
    await serve_until_stopped(app, port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app-id", default="wx0123456789abcdef")
    parser.add_argument("--app-secret", default="test-secret")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.app_id, args.app_secret))


if __name__ == "__main__":
    main()
