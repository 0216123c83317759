"""`python -m bench.match` keeps the DESIGN.md output contract (numbers belong to the bench)."""

from __future__ import annotations

import json
import subprocess
import sys

KEYS = {
    "rules",
    "articles",
    "docs_per_s",
    "p99_ms",
    "naive_docs_per_s",
    "speedup",
    "candidates_per_doc",
    "mismatches",
    "index_build_s",
    "rss_mb",
}


def test_bench_prints_the_contract_as_its_last_line() -> None:
    """A tiny run prints one JSON object last, with every key, and no mismatches."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.match", "--rules", "300", "--articles", "40"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result.keys() >= KEYS
    assert (result["rules"], result["articles"], result["mismatches"]) == (300, 40, 0)
    assert result["docs_per_s"] > 0 and result["naive_docs_per_s"] > 0


def test_heavy_profile_adds_its_keys() -> None:
    """`--profile heavy` keeps the contract and adds matches per doc and ids-only rates."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.match",
            "--profile",
            "heavy",
            "--rules",
            "300",
            "--articles",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result.keys() >= KEYS | {"matches_per_doc", "ids_docs_per_s", "ids_p99_ms"}
    assert (result["rules"], result["articles"], result["mismatches"]) == (300, 30, 0)
    assert result["matches_per_doc"] > 0 and result["ids_docs_per_s"] > 0
