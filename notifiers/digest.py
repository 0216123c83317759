"""Digests as the channels show them: pure functions of a digest job.

A story shows once: the digest's hits of one story (copies of it in several feeds, or one
article matched by several rules) make one entry, its newest hit with "also in" feeds and
"also matched" rules. Entries are grouped by the rule of their newest hit, the rule with
the newest entry first, and newest first inside each group. Only the digest's own hits
count, so that a digest reads the same on every try. Telegram gets HTML parts, in order,
each under its 4,096-character limit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from notifiers.telegram_format import (
    MAX_MESSAGE,
    fit,
    marked,
    outlets,
    size,
    title_line,
    when,
)
from store.values import DeliveryJob

ENTRY_TITLE, ENTRY_SNIPPET, ENTRY_FEED, RULE_NAME, ALSO_RULE = 300, 400, 150, 200, 80
# Room kept in each part for the "(2/3)" counter and the header.
PART_BUDGET = MAX_MESSAGE - 200


def _newest(job: DeliveryJob) -> tuple[datetime | None, int]:
    return (job.hit_created_at, job.hit_id or 0)


@dataclass(frozen=True, slots=True)
class Entry:
    """One story in a digest: its newest hit, and the digest's other hits of the story."""

    hit: DeliveryJob
    others: tuple[DeliveryJob, ...] = ()

    @property
    def hits(self) -> tuple[DeliveryJob, ...]:
        return (self.hit, *self.others)

    @property
    def also_in(self) -> list[str]:
        """The other feeds that ran the story, first seen first."""
        feeds = dict.fromkeys(h.feed_title for h in self.others if h.feed_title)
        feeds.pop(self.hit.feed_title, None)
        return list(feeds)

    @property
    def also_matched(self) -> list[str]:
        """The other rules that matched the story."""
        rules = dict.fromkeys(h.rule_name for h in self.others if h.rule_id != self.hit.rule_id)
        rules.pop(self.hit.rule_name, None)
        return list(rules)


def story_key(hit: DeliveryJob) -> tuple[str, int]:
    """What makes hits one story: their story, else their article (else nothing)."""
    if hit.story_id:
        return ("story", hit.story_id)
    return ("article", hit.article_id) if hit.article_id else ("delivery", hit.id)


def _order(hit: DeliveryJob) -> tuple[bool, datetime | None, int]:
    return (hit.hit_created_at is not None, *_newest(hit))


def grouped(job: DeliveryJob) -> list[tuple[str, list[Entry]]]:
    """The digest's stories as (rule name, entries), newest first, rules by their newest."""
    stories: dict[tuple[str, int], list[DeliveryJob]] = {}
    for hit in sorted(job.digest_hits, key=_order, reverse=True):
        stories.setdefault(story_key(hit), []).append(hit)
    groups: dict[int, list[Entry]] = defaultdict(list)
    for first, *others in stories.values():
        groups[first.rule_id].append(Entry(first, tuple(others)))
    # Stories came newest first: so do the entries in each group, and the groups.
    return [(entries[0].hit.rule_name, entries) for entries in groups.values()]


def _entry(entry: Entry) -> str:
    hit = entry.hit
    lines = [title_line(hit.article_title[:ENTRY_TITLE], hit.article_url)]
    source = " · ".join(
        x for x in (fit(hit.feed_title, ENTRY_FEED), when(hit.article_published_at)) if x
    )
    if source:
        lines.append(f"<i>{source}</i>")
    if entry.also_in:
        lines.append(outlets(entry.also_in))
    if entry.also_matched:
        rules = ", ".join(fit(name, ALSO_RULE) for name in entry.also_matched[:3])
        more = len(entry.also_matched) - 3
        lines.append(f"<i>also matched: {rules}{f' +{more} more' if more > 0 else ''}</i>")
    if hit.snippet:
        lines.append(fit(hit.snippet, ENTRY_SNIPPET, marked))
    return "\n".join(lines)


def telegram_parts(job: DeliveryJob) -> list[str]:
    """The digest as Telegram HTML messages, in order, each within MAX_MESSAGE."""
    groups = grouped(job)
    count = sum(len(entries) for _, entries in groups)
    header = f"🗞 <b>Digest</b>: {count} alert{'s' if count != 1 else ''}"
    blocks: list[str] = []
    for rule_name, entries in groups:
        blocks.append(f"🔔 <b>{fit(rule_name, RULE_NAME)}</b> ({len(entries)})")
        blocks += [_entry(entry) for entry in entries]
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
