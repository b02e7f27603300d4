"""The fake WeChat API for bench/load.py, in its own process, with the time each push was accepted.

    PYTHONPATH=. .venv/bin/python -m bench.load_wechat_server --port 0 [--app-secret S]

tests/fakes/wechat_api.py's FakeWeChatAPI as bench/fake_wechat_server.py serves it, plus a
`time.monotonic()` stamp per accepted call (CLOCK_MONOTONIC is system-wide on Linux, so the
driver compares it with its own clock and the fake Bot API's). Prints `READY <url>`.
`GET /_load/calls?after=N` answers the customer-service messages and templates delivered since
the N-th (recipient, path, text, at) and the counters (tokens, refusals, attempts per path).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

from aiohttp import web

from bench.common import serve_until_stopped
from bench.fake_wechat_server import describe
from tests.fakes.wechat_api import CUSTOM_SEND, TEMPLATE_SEND, FakeWeChatAPI, WeChatCall

CONTROL = "/_load/calls"


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

    app.router.add_get(CONTROL, calls)  # before the fake's catch-all, which would answer it
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
