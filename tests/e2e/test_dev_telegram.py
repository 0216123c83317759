"""`newswatch dev telegram`: a person chats with the real bot through the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.service import free_port, wait_until


def test_dev_telegram_chats_in_the_terminal(tmp_path: Path) -> None:
    """Lines typed are messages to the bot, its answers and buttons are printed, `>N`
    presses a button, and end of input stops the service with exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env.update(
        NEWSWATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}",
        NEWSWATCH_PORT=str(free_port()),
        NEWSWATCH_PARSE_WORKERS="0",
        NEWSWATCH_LOG_LEVEL="warning",
        NEWSWATCH_RULES_SYNC_SECONDS="0.2",
        COLUMNS="200",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "dev", "telegram"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write("/watch Huawei\n")
        proc.stdin.flush()
        wait_until(
            lambda: any("Watching rule #1" in x for x in lines), timeout=60, message="/watch"
        )
        assert any("[>1] Test it  [>2] Unwatch" in x for x in lines), lines
        proc.stdin.write(">2\n")
        proc.stdin.close()
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(10)
        proc.stdout.close()  # type: ignore[union-attr]
    assert any("Rule #1 removed" in x for x in lines), lines
