"""Ctrl-C in a terminal: the whole process group gets SIGINT, and only the parent acts on it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.service import ServiceProcess, log_events, wait_until


def test_ctrl_c_exits_0_without_tracebacks(tmp_path: Path) -> None:
    """SIGINT to `newswatch run`'s process group (parse workers included) exits 0 and
    prints no KeyboardInterrupt traceback."""
    db = f"sqlite:///{tmp_path / 'ctrl-c.db'}"
    env = {"NEWSWATCH_PARSE_WORKERS": "2", "NEWSWATCH_LOG_FORMAT": "json"}
    with ServiceProcess(db, workdir=tmp_path, env=env, new_session=True) as service:
        wait_until(
            lambda: any(e.get("event") == "service.started" for e in log_events(service.log())),
            timeout=60,
            message="the service to start its roles (parse workers warmed up)",
        )
        assert service.proc is not None
        os.killpg(service.proc.pid, signal.SIGINT)
        assert service.wait(60) == 0
        log = service.log()
    assert "KeyboardInterrupt" not in log and "Traceback" not in log, log
