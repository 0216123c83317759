"""Digests as the channels show them: pure functions of a digest job.

Hits are grouped by rule, the rule with the newest hit first, and newest first inside
each group. Telegram gets HTML parts, in order, each under its 4,096-character limit."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from notifiers.telegram_format import MAX_MESSAGE, fit, marked, size, title_line, when
from store.values import DeliveryJob

ENTRY_TITLE, ENTRY_SNIPPET, ENTRY_FEED, RULE_NAME = 300, 400, 150, 200
# Room kept in each part for the "(2/3)" counter and the header.
PART_BUDGET = MAX_MESSAGE - 200


def _newest(job: DeliveryJob) -> tuple[datetime | None, int]:
    return (job.hit_created_at, job.hit_id or 0)


def grouped(job: DeliveryJob) -> list[tuple[str, list[DeliveryJob]]]:
    """The digest's hits as (rule name, hits), newest first, rules by their newest hit."""
    groups: dict[int, list[DeliveryJob]] = defaultdict(list)
    for hit in job.digest_hits:
        groups[hit.rule_id].append(hit)
    ordered = []
    for hits in groups.values():
        hits.sort(key=lambda h: (h.hit_created_at is not None, *_newest(h)), reverse=True)
        ordered.append((hits[0].rule_name, hits))
    ordered.sort(
        key=lambda g: (g[1][0].hit_created_at is not None, *_newest(g[1][0])), reverse=True
    )
    return ordered


def ordered_hits(job: DeliveryJob) -> list[DeliveryJob]:
    """The digest's hits in the order they are shown."""
    return [hit for _, hits in grouped(job) for hit in hits]


def _entry(hit: DeliveryJob) -> str:
    lines = [title_line(hit.article_title[:ENTRY_TITLE], hit.article_url)]
    source = " · ".join(
        x for x in (fit(hit.feed_title, ENTRY_FEED), when(hit.article_published_at)) if x
    )
    if source:
        lines.append(f"<i>{source}</i>")
    if hit.snippet:
        lines.append(fit(hit.snippet, ENTRY_SNIPPET, marked))
    return "\n".join(lines)


def telegram_parts(job: DeliveryJob) -> list[str]:
    """The digest as Telegram HTML messages, in order, each within MAX_MESSAGE."""
    count = len(job.digest_hits)
    header = f"🗞 <b>Digest</b>: {count} alert{'s' if count != 1 else ''}"
    blocks: list[str] = []
    for rule_name, hits in grouped(job):
        blocks.append(f"🔔 <b>{fit(rule_name, RULE_NAME)}</b> ({len(hits)})")
        blocks += [_entry(hit) for hit in hits]
    parts: list[str] = []
    current = ""
    for block in blocks:
        joined = f"{current}\n\n{block}" if current else block
        if current and size(joined) > PART_BUDGET:
            parts.append(current)
            current = block
        else:
            current = joined
    if current or not parts:
        parts.append(current)
    total = len(parts)
    out = []
    for n, part in enumerate(parts, 1):
        counter = f" ({n}/{total})" if total > 1 else ""
        text = f"{header}{counter}\n\n{part}" if part else header
        assert size(text) <= MAX_MESSAGE, "each block is bounded well under a part"
        out.append(text)
    return out
