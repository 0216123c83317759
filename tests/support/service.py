"""Run the real service (`python -m newswatch run`) as a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

FAST_SETTINGS = {
    "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
    "NEWSWATCH_SCHEDULER_TICK_SECONDS": "0.2",
    "NEWSWATCH_RULES_SYNC_SECONDS": "0.2",
    "NEWSWATCH_DISPATCH_POLL_SECONDS": "0.2",
    "NEWSWATCH_RETRY_SCALE": "0.001",
    "NEWSWATCH_LOG_FORMAT": "json",
    # Test items link to pages on hosts that do not exist: fetch none unless a test asks.
    "NEWSWATCH_FULL_TEXT_ENABLED": "false",
    # One parse process, not two: every start still spawns and warms the pool and parses
    # through it, at half the import cost (test_ctrl_c asks for two, as in production).
    "NEWSWATCH_PARSE_WORKERS": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """One `newswatch run` process with its own log file."""

    def __init__(
        self,
        database_url: str,
        *,
        workdir: Path,
        roles: str = "api,poller,dispatcher,bot",
        admin_token: str = "nw_test_admin_token_0123456789",
        env: dict[str, str] | None = None,
        new_session: bool = False,
    ) -> None:
        self.new_session = new_session  # its own process group, as a shell's job has
        self.port = free_port()
        self.admin_token = admin_token
        self.log_path = workdir / f"service-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")},
            **FAST_SETTINGS,
            "NEWSWATCH_DATABASE_URL": database_url,
            "NEWSWATCH_ADMIN_TOKEN": admin_token,
            **(env or {}),
        }
        self.roles = roles
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self._clients: list[httpx.Client] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "newswatch",
                    "run",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--role",
                    self.roles,
                ],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.new_session,
            )
        if "api" in self.roles:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"service not healthy within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, token: str | None = None) -> httpx.Client:
        """An API client for this service, closed when the service stops."""
        client = httpx.Client(
            base_url=self.url,
            timeout=10,
            headers={"Authorization": f"Bearer {token or self.admin_token}"},
        )
        self._clients.append(client)
        return client

    def terminate(self, timeout: float = 30.0) -> int:
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """The exit code, once the process has ended."""
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        for client in self._clients:
            client.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def log_events(log: str) -> list[dict]:  # type: ignore[type-arg]
    """The JSON log lines of a service log (other lines, e.g. a printed token, skipped)."""
    import json

    events = []
    for line in log.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events
