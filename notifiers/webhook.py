"""Webhooks, signed per Standard Webhooks: `webhook-id`, `webhook-timestamp` and
`webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from net.errors import BlockedURLError
from net.guard import check_url  # the same SSRF guard as feeds
from net.retry_after import parse_retry_after
from notifiers.outcome import SendOutcome
from store.values import DeliveryJob

SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class WebhookLimits:
    timeout_seconds: float = 15.0
    allow_private_networks: bool = False
    max_response_bytes: int = 64 * 1024


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key: the base64 part of `whsec_…`, decoded (as in the reference library)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def message_id(job: DeliveryJob) -> str:
    """Stable across retries, so that receivers can drop repeats."""
    return f"msg_nw{job.id}"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def format(job: DeliveryJob) -> bytes:
    """The JSON body of a delivery. Pure: the same job gives the same bytes."""
    if job.event_type == "ping":
        payload: dict[str, object] = {
            "type": "ping",
            "timestamp": _iso(job.created_at),
            "data": {"webhook_id": job.channel_id},
        }
    else:
        payload = {
            "type": job.event_type,
            "timestamp": _iso(job.hit_created_at or job.created_at),
            "data": {
                "hit_id": job.hit_id,
                "rule": {"id": job.rule_id, "name": job.rule_name, "query": job.rule_query},
                "article": {
                    "id": job.article_id,
                    "title": job.article_title,
                    "url": job.article_url,
                    "summary": job.article_summary[:2000],
                    "published_at": _iso(job.article_published_at),
                    "feed": {"id": job.feed_id, "title": job.feed_title, "url": job.feed_url},
                },
                "snippet": job.snippet,
                "matched_terms": list(job.matched_terms),
                "story": {
                    "id": job.story_id or job.article_id,
                    "articles": job.story_articles or 1,
                },
            },
        }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class GuardCache:
    """URLs that passed the SSRF guard in the last `ttl` seconds: a burst of sends to one
    endpoint resolves its host once, not once per send. A refusal is never cached."""

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._passed: dict[tuple[str, bool], float] = {}

    async def check(self, url: str, *, allow_private: bool) -> None:
        key = (url, allow_private)
        now = time.monotonic()
        if self._passed.get(key, 0.0) > now:
            return
        await check_url(url, allow_private=allow_private)
        if len(self._passed) >= self.size:
            self._passed.clear()
        self._passed[key] = now + self.ttl


def make_sender(
    client: httpx.AsyncClient, limits: WebhookLimits, clock: Callable[[], datetime]
) -> Callable[[DeliveryJob], Awaitable[SendOutcome]]:
    """The dispatcher's sender for webhooks, over one shared client."""

    guard = GuardCache()

    async def send_webhook(job: DeliveryJob) -> SendOutcome:
        return await send(client, job, limits=limits, now=clock(), guard=guard)

    return send_webhook


async def send(
    client: httpx.AsyncClient,
    job: DeliveryJob,
    *,
    limits: WebhookLimits,
    now: datetime,
    guard: GuardCache | None = None,
) -> SendOutcome:
    """POST one delivery, signed afresh with the current timestamp, after the SSRF guard."""
    try:
        if guard is None:
            await check_url(job.webhook_url, allow_private=limits.allow_private_networks)
        else:
            await guard.check(job.webhook_url, allow_private=limits.allow_private_networks)
    except BlockedURLError as exc:
        return SendOutcome(False, error=f"blocked: {exc}", permanent=True)
    body = format(job)
    msg_id = message_id(job)
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(job.webhook_secret, msg_id, timestamp, body),
    }
    try:
        # One deadline for the whole try: httpx's timeouts are per read, so a receiver
        # that drips bytes could otherwise hold a send (and its lease) for ever.
        async with asyncio.timeout(limits.timeout_seconds):
            async with client.stream(
                "POST",
                job.webhook_url,
                content=body,
                headers=headers,
                timeout=limits.timeout_seconds,
            ) as response:
                await _drain(response, limits.max_response_bytes)
    except (TimeoutError, httpx.TimeoutException):
        return SendOutcome(False, error=f"timed out after {limits.timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return SendOutcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
    return outcome_for(response, now)


async def _drain(response: httpx.Response, max_bytes: int) -> None:
    """Read a small answer so the connection can be reused; stop reading a large one."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > max_bytes:
            return


def outcome_for(response: httpx.Response, now: datetime) -> SendOutcome:
    """Any 2xx is success; 410 disables the endpoint; a redirect is a failure."""
    code = response.status_code
    if response.is_success:
        return SendOutcome(True, status_code=code)
    if code == 410:
        return SendOutcome(
            False,
            status_code=code,
            error="410 Gone: endpoint disabled",
            disable_target=True,
            permanent=True,
        )
    if response.is_redirect:
        return SendOutcome(False, status_code=code, error=f"redirect ({code}) is not followed")
    return SendOutcome(
        False,
        status_code=code,
        error=f"HTTP {code}",
        retry_after=parse_retry_after(response.headers.get("retry-after"), now),
    )
