"""`make run` listens where the user asks: `PORT=`/`HOST=`, or NEWSWATCH_PORT/NEWSWATCH_HOST."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_line(args: list[str], env: dict[str, str]) -> str:
    # MAKEFLAGS and MAKELEVEL of an enclosing `make test` would make it print directories.
    drop = ("HOST", "PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    base = {k: v for k, v in os.environ.items() if k not in drop}
    base = {k: v for k, v in base.items() if not k.startswith("NEWSWATCH_")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, "--host 127.0.0.1 --port 8000"),
        (["PORT=9123"], {}, "--host 127.0.0.1 --port 9123"),
        ([], {"NEWSWATCH_PORT": "9124", "NEWSWATCH_HOST": "0.0.0.0"}, "--host 0.0.0.0 --port 9124"),
        (["PORT=9125"], {"NEWSWATCH_PORT": "9124"}, "--host 127.0.0.1 --port 9125"),
    ],
)
def test_make_run_listens_where_asked(args: list[str], env: dict[str, str], expected: str) -> None:
    """The command `make run` starts carries the asked host and port (make's arguments win)."""
    assert _run_line(args, env).endswith(f"newswatch run {expected}")
