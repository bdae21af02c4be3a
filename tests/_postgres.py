"""A throwaway PostgreSQL server for the tests: Debian's ``postgresql`` package, a cluster in a
temporary directory, on a free port, its unix socket in that directory; stopped and removed
afterwards. As root, the cluster runs as the ``postgres`` user (PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamproc.local import free_port

__all__ = ["PostgresServer", "postgres_server"]


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package")
    return found[-1]


class PostgresServer:
    def __init__(self, directory: Path, port: int, as_user: list[str]) -> None:
        self.directory = directory
        self.port = port
        self.as_user = as_user

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.directory}&port={self.port}"

    def psql(self, sql: str) -> None:
        subprocess.run(
            [*self.as_user, _bin("psql"), "-h", str(self.directory), "-p", str(self.port),
             "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True, capture_output=True,
        )  # fmt: skip

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    directory = Path(tempfile.mkdtemp(prefix="streamproc-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    port = free_port()
    server = PostgresServer(directory, port, as_user)
    subprocess.run(
        [*as_user, _bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
         "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {directory} -c listen_addresses='' -c fsync=off"
    ctl = [*as_user, _bin("pg_ctl"), "-D", str(data), "-s"]
    subprocess.run([*ctl, "-o", options, "-l", str(directory / "log"), "-w", "start"], check=True)
    try:
        yield server
    finally:
        subprocess.run([*ctl, "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(directory, ignore_errors=True)
