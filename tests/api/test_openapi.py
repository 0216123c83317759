"""The OpenAPI document describes every route: a summary, typed bodies with examples,
and the errors it can answer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient


def _component(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    ref = schema.get("$ref") or next(
        (
            s["$ref"]
            for s in schema.get("anyOf", []) + schema.get("items", {}).get("anyOf", [])
            if "$ref" in s
        ),
        schema.get("items", {}).get("$ref"),
    )
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else None


def test_every_operation_is_documented(client: TestClient) -> None:
    """Each operation has a summary, a typed success body with an example, examples on its
    JSON request body, and its error statuses (401 on /v1, 422 where it takes input)."""
    doc = client.get("/openapi.json").json()
    problems = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            name = f"{method.upper()} {path}"
            if not op.get("summary"):
                problems.append(f"{name}: no summary")
            success = [c for c in op["responses"] if c.startswith("2")]
            for code in success:
                if code == "204":
                    continue
                content = op["responses"][code].get("content", {})
                if "application/json" not in content:
                    if not content:
                        problems.append(f"{name}: {code} has no content type")
                    continue
                model = _component(doc, content["application/json"].get("schema", {}))
                if model is None:
                    problems.append(f"{name}: {code} body is not a typed model")
                elif "examples" not in model and not content["application/json"].get("example"):
                    problems.append(f"{name}: {code} body has no example")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                model = _component(doc, body["schema"])
                if model is None or "examples" not in model:
                    problems.append(f"{name}: request body has no example")
            if path.startswith("/v1/") and "401" not in op["responses"]:
                problems.append(f"{name}: 401 undocumented")
            if (op.get("parameters") or op.get("requestBody")) and "422" not in op["responses"]:
                problems.append(f"{name}: 422 undocumented")
    assert problems == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_outside(client: TestClient, page: str) -> None:
    """/docs (Swagger UI) and /redoc reference only assets the app serves itself, so they
    work offline; each asset answers 200 with its content."""
    html = client.get(page)
    assert html.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert refs and all(ref.startswith("/") for ref in refs), refs
    assert not re.search(r"https?://(?!127\.0\.0\.1)", html.text), "a remote URL in the page"
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 1000, ref
