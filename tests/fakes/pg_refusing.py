"""A PostgreSQL server on 127.0.0.1 that asks for a password and refuses it, as a server with
password authentication does (the test cluster trusts every local connection). It records the
passwords it was sent, so a test can tell the client did send one."""

from __future__ import annotations

import asyncio
import struct

_SSL_REQUEST = 80877103


def _error(user: str) -> bytes:
    fields = b"".join(key + value.encode() + b"\0" for key, value in (
        (b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28P01"),
        (b"M", f'password authentication failed for user "{user}"')))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class RefusingPostgres:
    def __init__(self) -> None:
        self.passwords: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    def url(self, user: str, database: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    async def __aenter__(self) -> RefusingPostgres:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            length, code = struct.unpack("!II", await reader.readexactly(8))
            if code == _SSL_REQUEST:  # no TLS here: the client goes on in plain text
                writer.write(b"N")
                length, code = struct.unpack("!II", await reader.readexactly(8))
            parameters = (await reader.readexactly(length - 8)).split(b"\0")
            user = parameters[parameters.index(b"user") + 1].decode() if b"user" in parameters else ""
            writer.write(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            await writer.drain()
            kind, size = struct.unpack("!cI", await reader.readexactly(5))
            if kind == b"p":
                self.passwords.append((await reader.readexactly(size - 4)).rstrip(b"\0").decode())
            writer.write(_error(user))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
