"""A throwaway PostgreSQL cluster for the tests: initdb into a temp folder, one server on a free
loopback port, a migrated template database that each test clones, stopped at the end.

Debian's PostgreSQL 15 (`apt-get install -y postgresql`, which .ci/run does when it is missing)
lives in /usr/lib/postgresql/<version>/bin. initdb refuses root, so as root the cluster runs as
the `postgres` user (runuser). Durability is off (fsync, synchronous_commit): a crash loses a
throwaway cluster, nothing more.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

TEMPLATE = "fengshan_template"
_numbers = itertools.count(1)


class ClusterError(RuntimeError):
    pass


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ClusterError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): "
                           "apt-get install -y postgresql (.ci/run does this)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    port: int
    bindir: Path
    as_postgres: bool

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterError(f"{' '.join(command[:2])} failed ({done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}\n{tail}")

    @classmethod
    def start(cls) -> Cluster:
        bindir = _bindir()
        as_postgres = os.geteuid() == 0
        folder = Path(tempfile.mkdtemp(prefix="fengshan-pg-"))
        if as_postgres:
            shutil.chown(folder, "postgres", "postgres")
        cluster = cls(folder, _free_port(), bindir, as_postgres)
        data = str(folder / "data")
        cluster._run(str(bindir / "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {folder} -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        cluster._run(str(bindir / "pg_ctl"), "-D", data, "-l", str(folder / "server.log"), "-w",
                     "-t", "30", "-o", options, "start")
        return cluster

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.url("postgres"))

    async def create(self, name: str, template: str = "template0") -> str:
        admin = await self._admin()
        try:
            # FILE_COPY: a small template is copied faster than it is WAL-logged (PostgreSQL 15's default).
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        finally:
            await admin.close()
        return self.url(name)

    async def clone(self) -> tuple[str, str]:
        """A fresh database from the migrated template: (name, url)."""
        name = f"test_{os.getpid()}_{next(_numbers)}"
        return name, await self.create(name, TEMPLATE)

    async def drop(self, name: str) -> None:
        admin = await self._admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
