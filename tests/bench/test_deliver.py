"""The delivery bench keeps its output contract on a small run."""

from __future__ import annotations

import json
import subprocess
import sys


def test_deliver_bench_prints_the_contract() -> None:
    """The last stdout line is the contract JSON; a healthy run loses and doubles nothing."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.deliver", "--hits", "40", "--rate", "200"],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"hits", "deliveries_per_s", "p50_ms", "p99_ms", "lost", "duplicates"}
    assert result["hits"] == 40 and result["lost"] == 0 and result["duplicates"] == 0
    assert result["deliveries_per_s"] > 0 and 0 < result["p50_ms"] <= result["p99_ms"]


def test_digest_bench_prints_its_contract() -> None:
    """`--digest` sends one digest per channel after the hour ends, losing no hit."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.deliver", "--digest", "--hits", "200", "--channels", "4"],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {
        "mode",
        "hits",
        "channels",
        "digests",
        "digests_per_s",
        "hour_end_to_last_s",
        "lost",
        "duplicates",
    }
    assert (result["hits"], result["digests"], result["lost"], result["duplicates"]) == (
        200,
        4,
        0,
        0,
    )
    assert 0 < result["hour_end_to_last_s"] < 60
