"""No test reaches beyond this machine: a connection to anything but loopback is refused before
it starts, and recorded so the test that made it fails (tests/guard/plugin.py).

Standard library only, and importable on its own: the child processes the tests start (the real
bot) load it through tests/guard/sitecustomize.py and write what they were refused to the file
named by FENGSHAN_NETGUARD_LOG, which the parent's plugin reads after each test.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

LOG_VARIABLE = "FENGSHAN_NETGUARD_LOG"  # set by the test session for its child processes only
LOCAL_NAMES = frozenset({"localhost", "localhost.", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET = (socket.AF_INET, socket.AF_INET6)


class OutsideConnection(AssertionError):
    """A test tried to reach beyond loopback. An AssertionError, not an OSError: code that retries
    or falls back on network errors must not swallow it."""


_refused: list[str] = []
_lock = threading.Lock()
_log_file: str | None = None
_originals: dict[str, Callable[..., Any]] = {}


def is_local_host(host: object) -> bool:
    """Loopback (127.0.0.0/8, ::1, an IPv4-mapped loopback) or a name for it; any other name is
    not looked up, since the lookup itself would leave the machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard, no lookup
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def refused() -> list[str]:
    """What this process was refused so far (oldest first)."""
    with _lock:
        return list(_refused)


def take(since: int) -> list[str]:
    """Remove and return what was refused after the first `since` refusals: for the guard's own
    tests, which make refusals on purpose."""
    with _lock:
        taken = _refused[since:]
        del _refused[since:]
        return taken


def _refuse(what: str, target: object) -> None:
    message = (f"network guard: {what} to {target!r} refused before it started: "
               "tests may reach only 127.0.0.1 (loopback or a unix socket)")
    with _lock:
        _refused.append(message)
        if _log_file:
            with open(_log_file, "a", encoding="utf-8") as log:
                log.write(f"pid {os.getpid()}: {message}\n")
    raise OutsideConnection(message)


def _check_address(sock: socket.socket, what: str, address: object) -> None:
    if sock.family in _INET and isinstance(address, tuple) and not is_local_host(address[0]):
        _refuse(what, address)


def _connect(self: socket.socket, address: Any) -> None:
    _check_address(self, "connect", address)
    return _originals["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, "connect", address)
    return _originals["connect_ex"](self, address)


def _sendto(self: socket.socket, data: Any, *rest: Any) -> int:
    _check_address(self, "sendto", rest[-1] if rest else None)
    return _originals["sendto"](self, data, *rest)


def _numeric(host: Any) -> bool:
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
    except (ValueError, AttributeError):
        return False
    return True


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    # A literal address needs no lookup (its connect is checked); a name would send a DNS query.
    if not is_local_host(host) and not _numeric(host):
        _refuse("name lookup", host)
    return _originals["getaddrinfo"](host, *args, **kwargs)


def install(log_file: str | None = None) -> None:
    """Guard this process (idempotent). asyncio's sock_connect and create_connection, aiohttp
    and httpx all end in socket.socket.connect, and resolve names through socket.getaddrinfo."""
    global _log_file
    _log_file = log_file or _log_file
    if _originals:
        return
    _originals.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                      sendto=socket.socket.sendto, getaddrinfo=socket.getaddrinfo)
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _sendto  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = _getaddrinfo
