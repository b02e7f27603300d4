"""A fake Bot API in its own process for the benchmarks: tests' FakeTelegramAPI plus a control API.

    PYTHONPATH=. .venv/bin/python -m bench.fake_telegram_server --port 8081 [--limit 30] [--inject 0.05]

Prints ``READY <url>`` once listening. Beyond the Bot API it serves, under ``/control``:
``POST /control/push`` (queue updates), ``GET /control/sent?after=N&timeout=S`` (messages the bot
sent, long-polled), ``GET /control/stats`` (counters) and ``POST /control/config`` (rate limit,
injected 429s). The limit counts accepted sends in any sliding second; above it the answer is 429
with ``retry_after=1``, as Telegram's flood control does. Injected 429s are random (seeded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections import Counter, deque
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api import FakeTelegramAPI, JSONDict, _Fault

SEND_METHODS = frozenset({"sendMessage", "sendPhoto"})
RETRY_AFTER = 1


class BenchTelegramAPI(FakeTelegramAPI):
    """The tests' fake with flood control, random 429s, send timestamps and counters."""

    def __init__(self, token: str, limit: int = 0, inject: float = 0.0, seed: int = 1) -> None:
        super().__init__(token)
        self.limit = limit  # accepted sends per sliding second; 0 = unlimited
        self.inject = inject  # fraction of sends answered with an injected 429
        self.rng = random.Random(seed)
        self.accepted: deque[float] = deque()
        self.sent_at: list[float] = []  # monotonic time of each entry of `sent` (same index)
        self.counters: Counter[str] = Counter()
        self.blocked_until: dict[int, float] = {}  # chat -> earliest polite retry after a 429
        self.first_batch_at: float | None = None  # first getUpdates that returned updates

    async def start_on(self, port: int) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/control/push", self._control_push)
        app.router.add_get("/control/sent", self._control_sent)
        app.router.add_get("/control/stats", self._control_stats)
        app.router.add_post("/control/config", self._control_config)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        app.router.add_route("*", "/{prefix}/{method}", self._timed)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    # ------------------------------------------------------------ flood control
    def _take_fault(self, method: str, params: JSONDict) -> _Fault | None:
        """Faults armed with fail_next first; then, for sends, the limit and the injected 429s."""
        fault = super()._take_fault(method, params)
        if fault is not None or method not in SEND_METHODS:
            return fault
        chat_id = params.get("chat_id")
        now = time.monotonic()
        self.counters["send_requests"] += 1
        if chat_id in self.blocked_until:
            # A retry to a chat that got a 429 must wait retry_after; count who waited.
            polite = now >= self.blocked_until.pop(chat_id) - 0.05
            self.counters["retries_honouring_429" if polite else "retries_too_early"] += 1
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if self.limit and len(self.accepted) >= self.limit:
            return self._too_many(method, chat_id, now, "429_over_limit")
        if self.inject and self.rng.random() < self.inject:
            return self._too_many(method, chat_id, now, "429_injected")
        self.accepted.append(now)
        return None

    def _too_many(self, method: str, chat_id: Any, now: float, counter: str) -> _Fault:
        self.counters[counter] += 1
        self.blocked_until[chat_id] = now + RETRY_AFTER
        return _Fault(method, 429, f"Too Many Requests: retry after {RETRY_AFTER}", RETRY_AFTER, 1, chat_id)

    async def _timed(self, request: web.Request) -> web.StreamResponse:
        """Every Bot API call, counted by method."""
        self.counters[f"call_{request.match_info['method']}"] += 1
        return await self._handle(request)

    def _outgoing(self, method: str, params: JSONDict, body: JSONDict, photo: str | None = None) -> JSONDict:
        """Record when each message the bot sent was accepted (same index as `sent`)."""
        message = super()._outgoing(method, params, body, photo)
        self.sent_at.append(time.monotonic())
        return message

    async def _api_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        updates = await super()._api_getUpdates(params)
        if updates and self.first_batch_at is None:
            self.first_batch_at = time.monotonic()
        self.counters["updates_delivered"] += len(updates)
        return updates

    # ------------------------------------------------------------ control API
    async def _control_push(self, request: web.Request) -> web.Response:
        """Body: {"updates": [{"text": ..., "user": N} | {"data": ..., "user": N, "message_id": M}]}."""
        ids = []
        for item in (await request.json())["updates"]:
            user = int(item["user"])
            if "data" in item:
                ids.append(self.push_callback(user, item["data"], message_id=int(item.get("message_id", 1))))
            else:
                ids.append(self.push_text(user, item["text"], chat_id=item.get("chat_id"),
                                          chat_type=item.get("chat_type", "private")))
        self.counters["updates_pushed"] += len(ids)
        return web.json_response({"update_ids": ids, "at": time.monotonic()})

    async def _control_sent(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", 0))
        deadline = asyncio.get_running_loop().time() + float(request.query.get("timeout", 0))
        while len(self.sent) <= after and await self._wait_change(deadline):
            pass
        return web.json_response({"messages": [self._view(i) for i in range(after, len(self.sent))]})

    def _view(self, index: int) -> JSONDict:
        message = self.sent[index]
        return {"i": index, "at": self.sent_at[index] if index < len(self.sent_at) else time.monotonic(),
                "method": message.method, "chat_id": message.chat_id, "text": message.text or "",
                "message_id": message.message_id,
                "buttons": [{"text": b.get("text", ""), "data": b.get("callback_data")} for b in message.buttons]}

    async def _control_stats(self, request: web.Request) -> web.Response:
        text = request.query.get("text", "")
        per_chat = Counter(m.chat_id for m in self.sent if text and text in (m.text or ""))
        stats: dict[str, Any] = {
            **self.counters, "sent": len(self.sent), "pending_updates": len(self.updates),
            "confirmed_offset": self.confirmed_offset, "first_batch_at": self.first_batch_at,
            "commands_set": bool(self.commands), "now": time.monotonic(),
        }
        if text:
            times = [t for m, t in zip(self.sent, self.sent_at, strict=False) if text in (m.text or "")]
            stats.update(text_chats=len(per_chat), text_copies=sum(per_chat.values()),
                         text_duplicated_chats=sum(1 for n in per_chat.values() if n > 1),
                         text_chat_ids=sorted(per_chat), text_first_at=min(times, default=None),
                         text_last_at=max(times, default=None))
        return web.json_response(stats)

    async def _control_config(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.limit = int(body.get("limit", self.limit))
        self.inject = float(body.get("inject", self.inject))
        if "seed" in body:
            self.rng.seed(int(body["seed"]))
        return web.json_response({"limit": self.limit, "inject": self.inject})


async def serve(port: int, token: str, limit: int, inject: float, seed: int) -> None:
    api = BenchTelegramAPI(token, limit, inject, seed)
    await api.start_on(port)
    print(f"READY {api.url}", flush=True)
    try:
        await asyncio.Event().wait()  # until the driver terminates us
    finally:
        await api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default="123456:BENCH")
    parser.add_argument("--limit", type=int, default=0, help="sends per sliding second (0: none)")
    parser.add_argument("--inject", type=float, default=0.0, help="fraction of sends answered 429")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.token, args.limit, args.inject, args.seed))


if __name__ == "__main__":
    main()
