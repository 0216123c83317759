"""OpenAPI conformance as `st run --checks all` sees it: the schemathesis CLI against the
real service, and the points it once found, checked directly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.params import MAX_ID
from tests.conftest import auth
from tests.support.service import ServiceProcess

ST_CONFIG = """
[checks.positive_data_acceptance]
# Schema-valid data may still be refused: the rule grammar, a URL that does not resolve.
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
[checks.negative_data_rejection]
# An invalid body can be too large before it is invalid: 413 rejects it too.
expected-statuses = ["400", "401", "403", "404", "405", "409", "413", "422"]
"""


def _doc(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    """OPTIONS (and any undeclared method) answers 405 whose Allow header names exactly
    the methods the document declares for that path; a literal segment such as
    /v1/feeds/export is not read as an id."""
    for template, item in _doc(client)["paths"].items():
        path = "/".join("7" if part.endswith("_id}") else part for part in template.split("/"))
        answer = client.options(path)
        assert answer.status_code == 405, path
        assert answer.headers["allow"] == ", ".join(sorted(m.upper() for m in item)), path
    assert client.patch("/v1/feeds/export").headers["allow"] == "GET"
    assert client.put("/v1/rules/test").headers["allow"] == "POST"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ids_are_bounded_booleans_strict_cursors_patterned(
    client: TestClient, admin_token: str
) -> None:
    """Path ids declare their maximum (past it 422, at it 404); booleans and numbers are
    strict; every cursor parameter declares a pattern, and a cursor that fits it is
    never refused."""
    headers = auth(admin_token)
    assert client.get(f"/v1/rules/{MAX_ID}", headers=headers).status_code == 404
    assert client.get(f"/v1/rules/{MAX_ID + 1}", headers=headers).status_code == 422
    assert client.get(f"/v1/rules/{2**64}", headers=headers).status_code == 422
    rule = client.post("/v1/rules", json={"name": "r", "query": "x"}, headers=headers).json()
    for body in ({"enabled": 0}, {"enabled": "false"}, {"feed_ids": [True]}):
        refused = client.patch(f"/v1/rules/{rule['id']}", json=body, headers=headers)
        assert refused.status_code == 422, body
    declared = [
        (path, param["schema"])
        for path, item in _doc(client)["paths"].items()
        for operation in item.values()
        for param in operation.get("parameters", [])
        if param["name"] == "cursor"
    ]
    assert len(declared) == 8
    for path, schema in declared:
        pattern = next(s["pattern"] for s in schema["anyOf"] if "pattern" in s)
        kind = pattern[len("^(?:") :][0]
        url = path.replace("{webhook_id}", "1").replace("{rule_id}", str(rule["id"]))
        answer = client.get(url, params={"cursor": f"{kind}{'9' * 18}"}, headers=headers)
        assert answer.status_code in (200, 404), (path, answer.text)


@pytest.mark.slow
def test_schemathesis_cli_with_all_checks_passes(tmp_path: Path) -> None:
    """`st run --checks all` (examples and coverage phases) against the running service
    finds nothing: no 5xx, no conformance failure."""
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("the schemathesis CLI (st) is not installed")
    config = tmp_path / "schemathesis.toml"
    config.write_text(ST_CONFIG)
    db = f"sqlite:///{tmp_path / 'st.db'}"
    with ServiceProcess(db, workdir=tmp_path, roles="api") as service:
        done = subprocess.run(
            [
                st, "--config-file", str(config), "run", f"{service.url}/openapi.json",
                "--checks", "all", "--phases", "examples,coverage", "--max-examples", "5",
                "-H", f"Authorization: Bearer {service.admin_token}", "--no-color",
                "--max-time", "60",
            ],
            capture_output=True, text=True, timeout=180, check=False,
            cwd=tmp_path,  # its .schemathesis cache stays out of the repository
        )  # fmt: skip
    summary = done.stdout[done.stdout.find("SUMMARY") :][:3000]
    assert done.returncode == 0, summary or done.stderr[-3000:]
