"""E-mail channels over SMTP (aiosmtplib): multipart text and HTML from Jinja2 templates
(HTML autoescaped), double opt-in, and one-click unsubscribe (RFC 8058) with a link
signed by the channel's own secret. Bounds: messages per hour per address, and size.

SMTP outcomes: a 4xx is retried on the outbox's schedule; a 5xx for the recipient
deactivates the channel; a message the server refuses with a 5xx is dead."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import aiosmtplib
import structlog
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.engine import Engine

from notifiers.digest import Entry, grouped
from notifiers.outcome import SendOutcome
from notifiers.telegram_format import marked, safe_url, when
from store import session_scope
from store.digests import DIGEST_EVENT
from store.targets import CONFIRM_EVENT, EMAIL, sent_since
from store.values import DeliveryJob

log = structlog.get_logger(__name__)

_templates = Environment(
    loader=PackageLoader("notifiers", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters["marked"] = lambda s: Markup(marked(s))  # escapes, then bolds the marks
_templates.filters["plain"] = lambda s: s.replace("**", "")


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = "newswatch@localhost"
    public_url: str = "http://127.0.0.1:8000"
    per_hour: int = 20  # messages per address per hour, confirmation included
    max_bytes: int = 256 * 1024
    timeout_seconds: float = 30.0


def sign(secret: str, action: str, channel_id: int) -> str:
    """The signature of a channel's confirm or unsubscribe link (HMAC-SHA256, hex)."""
    message = f"{action}:{channel_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, action: str, channel_id: int, signature: str) -> bool:
    return bool(secret) and hmac.compare_digest(sign(secret, action, channel_id), signature)


def link(public_url: str, secret: str, action: str, channel_id: int) -> str:
    """A signed link the API serves: /email/confirm/{id} or /email/unsubscribe/{id}."""
    base = public_url.rstrip("/")
    return f"{base}/email/{action}/{channel_id}?sig={sign(secret, action, channel_id)}"


def _entry(entry: Entry) -> dict[str, str]:
    hit = entry.hit
    source = " · ".join(x for x in (hit.feed_title[:200], when(hit.article_published_at)) if x)
    return {
        "title": (hit.article_title.strip() or hit.article_url or "(untitled)")[:500],
        "url": safe_url(hit.article_url) or "",
        "source": source,
        "also_in": _names(entry.also_in),
        "also_matched": _names(entry.also_matched),
        "snippet": hit.snippet[:600],
    }


def _names(names: list[str], shown: int = 5) -> str:
    more = len(names) - shown
    return ", ".join(name[:100] for name in names[:shown]) + (f" +{more} more" if more > 0 else "")


def _groups(job: DeliveryJob) -> list[tuple[str, list[Entry]]]:
    if job.event_type == DIGEST_EVENT:
        return grouped(job)
    return [(job.rule_name, [Entry(job)])]


def build(job: DeliveryJob, config: EmailConfig, now: datetime) -> EmailMessage:
    """The message for a delivery: multipart text + HTML, with List-Unsubscribe, at most
    `max_bytes` (a digest too large shows fewer entries and says how many more). Pure."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = job.channel_target
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(f"nw{job.id}", domain="newswatch")
    if job.event_type == CONFIRM_EVENT:
        message["Subject"] = "Confirm your newswatch alerts"
        values: dict[str, Any] = {
            "address": job.channel_target,
            "confirm_url": link(config.public_url, job.channel_secret, "confirm", job.channel_id),
        }
        message.set_content(_templates.get_template("confirm.txt").render(values))
        message.add_alternative(
            _templates.get_template("confirm.html").render(values), subtype="html"
        )
        return message
    unsubscribe = link(config.public_url, job.channel_secret, "unsubscribe", job.channel_id)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    groups = _groups(job)
    total = sum(len(entries) for _, entries in groups)
    if job.event_type == DIGEST_EVENT:
        heading = f"newswatch digest: {total} alert{'s' if total != 1 else ''}"
    else:
        heading = f"newswatch: {job.rule_name[:200]}"
    message["Subject"] = heading[:250]
    shown = total
    while True:
        body = _render(groups, shown, total, heading, unsubscribe)
        if sum(len(part.encode()) for part in body) <= config.max_bytes or shown <= 1:
            break
        shown //= 2
    message.set_content(body[0])
    message.add_alternative(body[1], subtype="html")
    return message


def _render(
    groups: list[tuple[str, list[Entry]]], shown: int, total: int, heading: str, unsub: str
) -> tuple[str, str]:
    kept, left = [], shown
    for rule_name, entries in groups:
        if left <= 0:
            break
        kept.append((rule_name[:200], [_entry(e) for e in entries[:left]]))
        left -= len(entries[:left])
    values = {"heading": heading, "groups": kept, "more": total - shown, "unsubscribe_url": unsub}
    return (
        _templates.get_template("alert.txt").render(values),
        _templates.get_template("alert.html").render(values),
    )


class EmailSender:
    """A dispatcher `Sender` for channel kind "email"."""

    def __init__(self, config: EmailConfig, engine: Engine, clock: Callable[[], datetime]):
        self.config = config
        self.engine = engine
        self.clock = clock
        # Per address: one send at a time here, and this process's sends of the last hour
        # (the database knows them only once their outcomes are recorded).
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._recent: dict[int, deque[datetime]] = defaultdict(deque)

    async def __call__(self, job: DeliveryJob) -> SendOutcome:
        async with self._locks[job.channel_id]:
            now = self.clock()
            recent = self._recent[job.channel_id]
            while recent and recent[0] <= now - timedelta(hours=1):
                recent.popleft()
            sent = await asyncio.to_thread(self._sent_last_hour, job.channel_id, now)
            if max(sent, len(recent)) >= self.config.per_hour:
                return SendOutcome(
                    False,
                    error=f"over {self.config.per_hour} messages an hour",
                    retry_after=300,
                    deferred=True,
                )
            outcome = await self._send(job, now)
            if outcome.ok:
                recent.append(now)
            return outcome

    async def _send(self, job: DeliveryJob, now: datetime) -> SendOutcome:
        message = build(job, self.config, now)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.config.host,
                port=self.config.port,
                username=self.config.username or None,
                password=self.config.password or None,
                start_tls=self.config.starttls,
                timeout=self.config.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return refused(exc.recipients)
        except aiosmtplib.SMTPRecipientRefused as exc:
            return refused([exc])
        except aiosmtplib.SMTPResponseException as exc:
            permanent = exc.code >= 500 and isinstance(exc, aiosmtplib.SMTPDataError)
            return SendOutcome(
                False,
                status_code=exc.code,
                error=f"SMTP {exc.code}: {exc.message}"[:500],
                permanent=permanent,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendOutcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
        return SendOutcome(True, status_code=250)

    def _sent_last_hour(self, channel_id: int, now: datetime) -> int:
        with session_scope(self.engine, readonly=True) as session:
            return sent_since(
                session=session, kind=EMAIL, channel_id=channel_id, since=now - timedelta(hours=1)
            )


def refused(recipients: list[aiosmtplib.SMTPRecipientRefused]) -> SendOutcome:
    """A refused recipient: 5xx deactivates the channel, 4xx is retried."""
    code = max(r.code for r in recipients)
    error = f"SMTP {code}: recipient refused: {recipients[0].message}"[:500]
    if code >= 500:
        return SendOutcome(
            False, status_code=code, error=error, permanent=True, disable_target=True
        )
    return SendOutcome(False, status_code=code, error=error)
