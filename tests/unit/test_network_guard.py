"""The network guard (tests/guard): a test that connects beyond 127.0.0.1 fails, in this process
or in a process it started, and the connection is refused before a packet leaves."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT
from tests.guard import netguard
from tests.guard.netguard import OutsideConnection

TEST_NET = ("192.0.2.1", 80)  # TEST-NET-1 (RFC 5737): routable nowhere, so never a real peer


@contextmanager
def on_purpose() -> Iterator[list[str]]:
    """What the guard refused inside the block, taken away so that the refusals made on purpose
    here do not fail the tests that prove them."""
    start = len(netguard.refused())
    taken: list[str] = []
    try:
        yield taken
    finally:
        taken += [message.split(" refused", 1)[0] for message in netguard.take(start)]


def test_a_connection_beyond_loopback_is_refused_before_it_starts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.socket() as sock, on_purpose() as refused:
        sock.settimeout(5)
        with pytest.raises(OutsideConnection, match=r"connect to \('192\.0\.2\.1', 80\) refused before it started"):
            sock.connect(TEST_NET)
        with pytest.raises(OutsideConnection):
            sock.connect_ex(TEST_NET)
        # Nothing was started: a socket whose connect had begun could not connect again.
        sock.connect(listener.getsockname())
        assert sock.getpeername() == listener.getsockname()
    assert refused == ["network guard: connect to ('192.0.2.1', 80)"] * 2


def test_a_name_is_not_even_looked_up() -> None:
    with on_purpose() as refused:
        with pytest.raises(OutsideConnection):
            socket.getaddrinfo("api.telegram.org", 443)
        with pytest.raises(OutsideConnection):
            socket.create_connection(("api.weixin.qq.com", 443), timeout=5)
    assert refused == ["network guard: name lookup to 'api.telegram.org'",
                       "network guard: name lookup to 'api.weixin.qq.com'"]


async def test_asyncio_and_aiohttp_are_refused_too() -> None:
    with on_purpose() as refused:
        with pytest.raises(OutsideConnection):
            await asyncio.open_connection(*TEST_NET)
        async with aiohttp.ClientSession() as client:
            with pytest.raises(OutsideConnection):
                await client.get("http://192.0.2.1/", timeout=aiohttp.ClientTimeout(total=5))
            with pytest.raises(OutsideConnection):
                await client.get("https://qyapi.weixin.qq.com/", timeout=aiohttp.ClientTimeout(total=5))
    assert refused == ["network guard: connect to ('192.0.2.1', 80)"] * 2 + [
        "network guard: name lookup to 'qyapi.weixin.qq.com'"]


async def test_loopback_names_and_unix_sockets_stay_open(tmp_path: Path) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(5))
        await writer.drain()
        writer.close()

    servers = [await asyncio.start_server(echo, "127.0.0.1", 0),
               await asyncio.start_unix_server(echo, str(tmp_path / "s.sock"))]
    targets = [("127.0.0.1", servers[0].sockets[0].getsockname()[1]),
               ("localhost", servers[0].sockets[0].getsockname()[1])]
    try:
        for host, port in targets:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"hello")
            assert await reader.read(5) == b"hello"
            writer.close()
        reader, writer = await asyncio.open_unix_connection(str(tmp_path / "s.sock"))
        writer.write(b"hello")
        assert await reader.read(5) == b"hello"
        writer.close()
    finally:
        for server in servers:
            server.close()
    assert all(netguard.is_local_host(host) for host in ("::1", "127.8.9.10", "::ffff:127.0.0.1", "LOCALHOST"))
    assert not any(netguard.is_local_host(host) for host in ("192.0.2.1", "0.0.0.0", "::", "10.0.0.1", "example.org"))


def test_a_child_process_is_guarded_and_reports_to_the_test(tmp_path: Path) -> None:
    """The real bot runs as a child in e2e tests: it gets the guard through the PYTHONPATH the
    session sets, and writes what it was refused where the plugin looks after each test."""
    log = tmp_path / "child.log"
    result = subprocess.run(
        [sys.executable, "-c", f"import socket; socket.create_connection({TEST_NET!r}, timeout=5)"],
        env={**os.environ, netguard.LOG_VARIABLE: str(log)}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "OutsideConnection: network guard: connect to ('192.0.2.1', 80) refused" in result.stderr
    assert "network guard: connect to ('192.0.2.1', 80) refused" in log.read_text(encoding="utf-8")


def test_a_test_that_swallows_the_refusal_still_fails(pytester: pytest.Pytester,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """As a sender would (it retries on any error), the inner test catches what connect raised:
    it fails all the same, naming what it tried to reach."""
    pytester.makepyfile(test_reaches_out="""
        import socket

        def test_reaches_out():
            try:
                socket.create_connection(("192.0.2.1", 80), timeout=5)
            except Exception:
                pass
    """)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv(netguard.LOG_VARIABLE)  # the inner session keeps its own log
    result = pytester.runpytest_subprocess("-p", "tests.guard.plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*network guard: connect to ('192.0.2.1', 80) refused before it started*"])
