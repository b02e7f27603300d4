"""The bot's own HTTP server (aiohttp, same event loop): webhooks and /healthz."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.config_channels import HttpSettings

HealthReport = Callable[[], dict[str, Any]]


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit`, declared or not (chunked)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def no_channels() -> dict[str, Any]:
    return {"status": "ok", "channels": {}}


class HttpServer:
    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/healthz", self._healthz)
        self.health: HealthReport = no_channels  # run_channels points it at its supervisor
        self._runner: web.AppRunner | None = None
        self.port = settings.port

    async def _healthz(self, _: web.Request) -> web.Response:
        """Each channel loop's state (running / restarting / stopped, the last error's time);
        503 when one is stopped, so a monitor notices a channel that needs a person."""
        report = self.health()
        return web.json_response(report, status=503 if report["status"] == "stopped" else 200)

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        # With port 0 the OS picks one; tests read it from here.
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
