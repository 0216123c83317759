"""Webhooks, signed per Standard Webhooks: `webhook-id`, `webhook-timestamp` and
`webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from net.errors import BlockedURLError, UnresolvableError
from net.guard import Guard, check_scheme
from net.retry_after import parse_retry_after
from net.transport import GuardedTransport
from notifiers.digest import grouped
from notifiers.outcome import SendOutcome
from store.digests import DIGEST_EVENT
from store.values import DeliveryJob

SECRET_PREFIX = "whsec_"
USER_AGENT = "newswatch-webhooks/0.1"


@dataclass(frozen=True)
class WebhookLimits:
    """Bounds on one try, and the guard that decides which addresses webhooks may reach."""

    timeout_seconds: float = 15.0
    allow_private_networks: bool = False
    max_response_bytes: int = 64 * 1024
    max_connections: int = 100
    guard: Guard | None = None

    @property
    def effective_guard(self) -> Guard:
        return self.guard or Guard(allow_private=self.allow_private_networks)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


@functools.lru_cache(maxsize=1024)
def secret_bytes(secret: str) -> bytes:
    """The key: the base64 part of `whsec_…`, decoded (as in the reference library);
    decoded once per secret, not once per send."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def message_id(job: DeliveryJob) -> str:
    """Stable across retries, so that receivers can drop repeats; a digest's is its own."""
    if job.event_type == DIGEST_EVENT and job.digest_id is not None:
        return f"msg_nwdigest{job.digest_id}"
    return f"msg_nw{job.id}"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signing_secrets(job: DeliveryJob, now: datetime) -> list[str]:
    """The current secret, plus the previous one while its rotation grace period runs."""
    until = job.webhook_previous_secret_until
    if job.webhook_previous_secret and until is not None and now < until:
        return [job.webhook_secret, job.webhook_previous_secret]
    return [job.webhook_secret]


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: Standard Webhooks lets one header carry several signatures,
    space-separated; a receiver accepts the delivery when any of them verifies."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def hit_data(job: DeliveryJob) -> dict[str, object]:
    """The `data` of a `hit.created` event, and each of a digest's `data.hits[]`."""
    return {
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
        "story": {"id": job.story_id or job.article_id, "articles": job.story_articles or 1},
    }


def format(job: DeliveryJob) -> bytes:
    """The JSON body of a delivery. Pure: the same job gives the same bytes."""
    if job.event_type == "ping":
        payload: dict[str, object] = {
            "type": "ping",
            "timestamp": _iso(job.created_at),
            "data": {"webhook_id": job.channel_id},
        }
    elif job.event_type == DIGEST_EVENT:
        entries = [entry for _, group in grouped(job) for entry in group]
        payload = {
            "type": DIGEST_EVENT,
            "timestamp": _iso(job.created_at),
            "data": {
                "digest_id": job.digest_id,
                "hit_count": len(job.digest_hits),
                "hits": [hit_data(hit) for entry in entries for hit in entry.hits],
                # One entry per story, as the digest shows it: its hits, newest first.
                "stories": [
                    {
                        "story": hit_data(entry.hit)["story"],
                        "hit_ids": [hit.hit_id for hit in entry.hits],
                    }
                    for entry in entries
                ],
            },
        }
    else:
        payload = {
            "type": job.event_type,
            "timestamp": _iso(job.hit_created_at or job.created_at),
            "data": hit_data(job),
        }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def make_transport(limits: WebhookLimits) -> httpx.AsyncBaseTransport:
    """The one shared transport for webhooks. Like feeds', it checks each host with the
    SSRF guard when it connects and dials the very address it checked, so a name that
    answers a public address first and a private one next (DNS rebinding) never reaches
    the private one. Sends go to it directly rather than through an `httpx.AsyncClient`,
    whose per-request work (URL merging, cookies, auth and redirect hooks, none of which a
    webhook uses) cost about a third of a send in the delivery profile."""
    pool = httpx.Limits(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_connections,
        keepalive_expiry=30,
    )
    # The dispatcher bounds sends per endpoint itself.
    return GuardedTransport(limits.effective_guard, per_host=limits.max_connections, limits=pool)


def make_sender(
    transport: httpx.AsyncBaseTransport, limits: WebhookLimits, clock: Callable[[], datetime]
) -> Callable[[DeliveryJob], Awaitable[SendOutcome]]:
    """The dispatcher's sender for webhooks, over one shared transport (`make_transport`)."""

    async def send_webhook(job: DeliveryJob) -> SendOutcome:
        return await send(transport, job, limits=limits, now=clock())

    return send_webhook


async def send(
    transport: httpx.AsyncBaseTransport,
    job: DeliveryJob,
    *,
    limits: WebhookLimits,
    now: datetime,
) -> SendOutcome:
    """POST one delivery, signed afresh with the current timestamp. `transport` comes from
    `make_transport`: it applies the SSRF guard to the address it dials."""
    try:
        url = _parse_url(job.webhook_url)
    except (BlockedURLError, httpx.InvalidURL) as exc:
        return SendOutcome(False, error=f"blocked: {exc}", permanent=True)
    body = format(job)
    msg_id = message_id(job)
    timestamp = int(now.timestamp())
    request = httpx.Request(
        "POST",
        url,
        content=body,
        headers={
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                signing_secrets(job, now), msg_id, timestamp, body
            ),
        },
        extensions={"timeout": httpx.Timeout(limits.timeout_seconds).as_dict()},
    )
    try:
        # One deadline for the whole try: httpx's timeouts are per read, so a receiver
        # that drips bytes could otherwise hold a send (and its lease) for ever.
        async with asyncio.timeout(limits.timeout_seconds):
            response = await transport.handle_async_request(request)
            try:
                await _drain(response, limits.max_response_bytes)
            finally:
                await response.aclose()
    except UnresolvableError as exc:  # DNS may come back: retry on the schedule
        return SendOutcome(False, error=str(exc)[:500])
    except BlockedURLError as exc:  # resolved, and not to a public address
        return SendOutcome(False, error=f"blocked: {exc}", permanent=True)
    except (TimeoutError, httpx.TimeoutException):
        return SendOutcome(False, error=f"timed out after {limits.timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return SendOutcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
    return outcome_for(response, now)


@functools.lru_cache(maxsize=1024)
def _parse_url(url: str) -> httpx.URL:
    """A webhook's URL, checked for its scheme and parsed once rather than per send (the
    transport still checks the address it dials, every time it connects)."""
    check_scheme(url)
    return httpx.URL(url)


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
