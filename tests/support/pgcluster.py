"""A private PostgreSQL server for one test, which the test may stop and start at will
(never the shared server, which other tests use). PostgreSQL refuses to run as root, so
its programs run as the `postgres` OS user, in a temporary folder that user owns."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.service import free_port


def unavailable_reason() -> str | None:
    """Why a private cluster cannot run here, or None when it can."""
    if not _bin_dir():
        return "no PostgreSQL server programs under /usr/lib/postgresql/*/bin"
    if os.geteuid() != 0:
        return "a private PostgreSQL cluster needs root (to run it as the postgres user)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` OS user to run a private PostgreSQL cluster"
    if shutil.which("runuser") is None:
        return "no `runuser` to run PostgreSQL as the postgres user"
    return None


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """initdb into a temporary folder, then pg_ctl start / stop / restart on a free port."""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        assert bin_dir is not None, unavailable_reason()
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self._as_postgres(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
            cwd=self.root,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c full_page_writes=off -c max_connections=50"
        )
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def close(self) -> None:
        """Stop the server if it runs, and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
