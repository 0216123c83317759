"""An open live-hits stream neither outlives its session nor holds up a SIGTERM."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.service import ServiceProcess
from tests.web.helpers import field

GRACE = 20  # seconds; a stream that held the server would hold it this long


@pytest.mark.slow
def test_sigterm_ends_open_streams_at_once(tmp_path: Path) -> None:
    """SIGTERM closes the dashboard's event streams: the service exits well inside the grace."""
    env = {"NEWSWATCH_SHUTDOWN_GRACE_SECONDS": str(GRACE)}
    with ServiceProcess(
        f"sqlite:///{tmp_path / 's.db'}", workdir=tmp_path, roles="api", env=env
    ) as service:
        browser = httpx.Client(base_url=service.url, timeout=30, follow_redirects=True)
        nonce = field(browser.get("/signin").text, "nonce")
        signed = browser.post("/signin", data={"token": service.admin_token, "nonce": nonce})
        assert signed.status_code == 200 and "Sign out" in signed.text
        opened = threading.Event()
        lines: list[str] = []

        def listen() -> None:
            with browser.stream("GET", "/hits/stream") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                for line in stream.iter_lines():
                    lines.append(line)
                    opened.set()

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        assert opened.wait(20), "the stream never opened"
        started = time.monotonic()
        assert service.terminate(timeout=GRACE + 10) == 0
        took = time.monotonic() - started
        reader.join(10)
        browser.close()
    assert lines[0] == "retry: 2000"
    assert not reader.is_alive() and took < GRACE / 2, f"SIGTERM took {took:.1f} s"
