"""Schemathesis fuzzing over the app's own OpenAPI document, on SQLite and PostgreSQL:
no 5xx, no undocumented status or content type, no response that breaks its schema."""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from tests.conftest import auth, make_user

# Two passes per database: every operation and mode (valid, invalid data) gets
# FIRST_PASS examples for sure, then up to MORE_EXAMPLES each while BUDGET_S lasts.
FIRST_PASS = 8
MORE_EXAMPLES = 25
BUDGET_S = 8.0

CONFIG = SchemathesisConfig.from_dict(
    {
        # Unknown query parameters are ignored, as most HTTP APIs do; unknown body
        # fields are refused (extra="forbid").
        # The test sends a real token with every case, so a case whose only invalid part
        # is a missing or broken Authorization header would be made valid again, and then
        # "accepted"; the 401s are tested in test_tokens.py.
        "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
        "checks": {
            # Schema-valid data may still be refused with 422 by checks JSON Schema cannot
            # express: the rule grammar, a URL that does not resolve or is blocked.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            },
            # An invalid body can be too large before it is invalid: 413 rejects it too.
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "405", "409", "413", "422"]
            },
        },
    }
)


# Every check schemathesis has, as `st run --checks all` runs them.
load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())


def seed(client: TestClient, token: str) -> None:
    """Give the fuzzer objects to find: a feed, a rule, a webhook, a second token."""
    headers = auth(token)
    for path, body in [
        ("/v1/feeds", {"url": "http://127.0.0.1:9/feed.xml"}),
        ("/v1/rules", {"name": "bd-hw", "query": "ByteDance AND Huawei"}),
        ("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}),
        ("/v1/tokens", {"name": "spare"}),
    ]:
        assert client.post(path, json=body, headers=headers).status_code == 201


def fuzz(
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    *,
    examples: int,
    deadline: float,
    calls: list[int],
) -> None:
    """Run one operation's hypothesis test; each call appends its status to `calls`."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        calls.append(case.call_and_validate(headers=headers, checks=ALL_CHECKS).status_code)

    check()


def test_fuzz_finds_no_server_error_and_no_schema_break(engine: Engine) -> None:
    """Every operation, with valid and invalid data and a real admin token, answers a
    documented status with a body that fits its schema."""
    _, token = make_user(engine, "admin", admin=True)
    app = create_app(engine=engine, config=ApiConfig(allow_private_networks=True))
    with TestClient(app) as client:
        seed(client, token)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    headers = auth(token)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: dict[str, str] = {}
    calls: dict[str, list[int]] = {}
    started = time.monotonic()
    for examples, deadline in [(FIRST_PASS, float("inf")), (MORE_EXAMPLES, started + BUDGET_S)]:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.label} [{mode.value}]"
                if label in failures or time.monotonic() > deadline:
                    continue
                try:
                    fuzz(
                        operation,
                        mode,
                        headers,
                        examples=examples,
                        deadline=deadline,
                        calls=calls.setdefault(label, []),
                    )
                except Exception as exc:
                    if "Unable to satisfy assumptions" not in str(exc):
                        failures[label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    statuses = [s for c in calls.values() for s in c]
    assert len(statuses) >= 6 * len(operations), {k: len(c) for k, c in calls.items()}
    assert max(statuses) < 500
