"""`python -m bench.web` keeps its output contract on a small run (numbers belong to the bench)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_web_bench_prints_the_contract() -> None:
    """The last stdout line is the JSON: every page rendered, with a time for each."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", "--hits", "300", "--rules", "60", "--rounds", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"hits", "rules", "pages", "max_ms", "bytes"}
    assert result["hits"] == 300 and result["rules"] == 60
    assert {"/", "/rules", "/stories/4", "/feeds", "/channels", "/channels/1", "/admin"} <= set(
        result["pages"]
    )
    assert len(result["pages"]) == 12 and all(ms > 0 for ms in result["pages"].values())
