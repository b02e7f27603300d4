"""The network guard for the test session (registered by tests/conftest.py).

The test process is guarded from configure on, so fixtures of every scope are covered; child
processes get the same guard through child/sitecustomize.py on their PYTHONPATH and report to a
file. After each phase of a test (setup, call, teardown) anything refused in that phase, here or
in a child, fails the test with the guard's message: code that catches the refusal and carries
on (a sender retrying, say) cannot hide it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.guard import netguard

CHILD_PATH = Path(__file__).resolve().parent / "child"


class Watch:
    """Where the refusals seen so far end, in this process and in the children's file."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def mark(self) -> tuple[int, int]:
        return len(netguard.refused()), self._size()

    def since(self, mark: tuple[int, int]) -> list[str]:
        here, there = mark
        found = netguard.refused()[here:]
        if self._size() > there:
            with self.log.open("rb") as log:
                log.seek(there)
                found += log.read().decode("utf-8", "replace").splitlines()
        return found

    def _size(self) -> int:
        try:
            return self.log.stat().st_size
        except FileNotFoundError:
            return 0


WATCH = pytest.StashKey[Watch]()


def pytest_configure(config: pytest.Config) -> None:
    netguard.install()
    handle, name = tempfile.mkstemp(prefix="fengshan-netguard-", suffix=".log")
    os.close(handle)
    config.stash[WATCH] = Watch(Path(name))
    # Children inherit os.environ (every harness starts from it): bot code never reads these.
    os.environ[netguard.LOG_VARIABLE] = name
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(CHILD_PATH), os.environ.get("PYTHONPATH", "")) if part)


def pytest_unconfigure(config: pytest.Config) -> None:
    watch = config.stash.get(WATCH, None)
    if watch is not None:
        watch.log.unlink(missing_ok=True)


def _guarded(item: pytest.Item) -> Generator[None, object, object]:
    watch = item.config.stash[WATCH]
    start = watch.mark()
    try:
        return (yield)
    finally:
        refused = watch.since(start)
        if refused:
            pytest.fail("\n".join(refused), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded(item))
