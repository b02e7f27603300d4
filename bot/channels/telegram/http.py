"""PTB's requests over aiohttp: the same Bot API calls, a cheaper HTTP client.

python-telegram-bot's stock HTTPXRequest (httpx → httpcore → anyio) cost about 0.7 ms of CPU
per call in the intake benchmark (docs/benchmarks.md, row 1): more than handling an update.
aiohttp (already the bot's HTTP server and WeChat client) does the same request with its C
parser. PTB keeps everything above the socket: parameters, status codes → its exceptions
(RetryAfter, ChatMigrated, Forbidden, ...), JSON. What this class adds is how a failure is
told apart, as TelegramTransport needs it for at-least-once delivery:

- `TimedOut` caused by `aiohttp.ConnectionTimeoutError`: no connection (pool or connect), the
  request never left;
- `TimedOut` otherwise (read, or the whole call): it may have arrived;
- `NetworkError` caused by `aiohttp.ClientConnectorError`: connection refused, never left;
- `NetworkError` caused by any other aiohttp error: the connection failed after it was
  made — the request may have arrived.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# The bot token is part of every Bot API URL: never in an error text that may be logged.
_TOKEN = re.compile(r"bot\d+:[\w-]+")


def _redacted(error: BaseException) -> str:
    return _TOKEN.sub("bot<token>", f"{type(error).__name__}: {error}")


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one aiohttp session with a bounded connection pool."""

    __slots__ = ("_connect_timeout", "_media_write_timeout", "_pool_size", "_pool_timeout",
                 "_read_timeout", "_session", "_write_timeout")

    def __init__(self, connection_pool_size: int = 16, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, files: bool, read: Any, write: Any, connect: Any, pool: Any) -> aiohttp.ClientTimeout:
        """Each timeout passed to the call, else this request's own (PTB's DEFAULT_NONE)."""
        default = BaseRequest.DEFAULT_NONE
        read_s = self._read_timeout if read is default else read
        write_s = (self._media_write_timeout if files else self._write_timeout) if write is default else write
        connect_s = self._connect_timeout if connect is default else connect
        pool_s = self._pool_timeout if pool is default else pool
        # aiohttp has no write timeout; the whole call is bounded by the sum of the parts instead.
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(part is None for part in parts) else sum(p for p in parts if p is not None)
        to_connect = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(total=total, connect=to_connect, sock_connect=connect_s,
                                     sock_read=read_s)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else {}
        data: aiohttp.FormData | dict[str, str] | None = None
        if files:
            form = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                if name not in files:
                    form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        elif request_data is not None:
            data = request_data.json_parameters  # form-urlencoded, as HTTPXRequest sends it
        timeout = self._timeout(bool(files), read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut("Pool timeout or connect timeout: the request was not sent") from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:
            # Named as httpx named it, so the rows' last_error reads the same whichever client.
            raise NetworkError(f"ConnectError: {_redacted(exc)}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{_redacted(exc)}") from exc
