"""Webhook signatures verify with the standardwebhooks reference library."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from notifiers.webhook import format, message_id, new_secret, sign
from store.values import DeliveryJob

JOB = DeliveryJob(
    id=7,
    event_type="hit.created",
    channel_kind="webhook",
    channel_id=1,
    attempts=0,
    created_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
    target_active=True,
    hit_id=3,
    rule_id=2,
    rule_name="bd-hw",
    rule_query="ByteDance AND Huawei",
    article_title="Judul <b>",
    snippet="**ByteDance** …",
    matched_terms=("bytedance",),
)


def test_signature_verifies_and_tamper_fails() -> None:
    """Our signature passes the reference verifier; a changed body does not."""
    secret = new_secret()
    body = format(JOB)
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        "webhook-id": message_id(JOB),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id(JOB), timestamp, body),
    }
    assert Webhook(secret).verify(body, headers)["data"]["hit_id"] == 3
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"bd-hw", b"bd-hx"), headers)


def test_body_is_stable_across_retries() -> None:
    """The same job formats to the same bytes, so the id means the same message."""
    assert format(JOB) == format(JOB)
    assert message_id(JOB) == "msg_nw7"


def test_hit_created_names_its_story() -> None:
    """data.story carries the story id and its article count at send time."""
    import json
    from dataclasses import replace

    body = json.loads(format(replace(JOB, article_id=9, story_id=5, story_articles=4)))
    assert body["data"]["story"] == {"id": 5, "articles": 4}
    alone = json.loads(format(replace(JOB, article_id=9)))
    assert alone["data"]["story"] == {"id": 9, "articles": 1}  # a story of its own
