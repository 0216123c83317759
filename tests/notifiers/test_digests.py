"""Digests, quiet hours and mute with a controlled clock, on SQLite and PostgreSQL: the
real dispatcher and webhook sender against a loopback receiver."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from monitor.normalise import Article as NormalArticle
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy, WebhookLimits
from notifiers.apprise_channel import format as apprise_format
from notifiers.digest import telegram_parts
from notifiers.email import EmailConfig, build
from notifiers.webhook import make_sender, make_transport
from store import session_scope
from store.articles import insert_new_articles
from store.channels import mute_channel, mute_rule, set_schedule
from store.deliveries import load_jobs
from store.feeds import add_feed
from store.hits import WEBHOOK, record_hits_and_enqueue
from store.schedule import Schedule
from store.tables import Article, Delivery, Feed, Hit
from store.values import NewHit
from tests.conftest import make_user
from tests.support.outbox import add_rules, add_webhook, utcnow
from tests.support.servers import WebhookReceiver


class Clock:
    """A clock that tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def record(
    engine: Engine,
    clock: Clock,
    rule_ids: list[int],
    tag: str,
    count: int = 1,
    feed_url: str = "http://feed.example/rss",
) -> list[int]:
    """`count` new articles hit by every rule, recorded at the clock's time: the hit ids."""
    with session_scope(engine) as s:
        feed, _ = add_feed(session=s, url=feed_url, now=clock.now)
        stored = insert_new_articles(
            session=s,
            feed_id=feed.id or 0,
            articles=[
                NormalArticle(
                    item_key=f"{tag}{i}",
                    url=f"https://news.example/{tag}/{i}",
                    canonical_url=f"https://news.example/{tag}/{i}",
                    title=f"Story {tag} {i}",
                    summary="ByteDance and Huawei",
                    content="",
                    language="en",
                    author="",
                    published_at=clock.now,
                )
                for i in range(count)
            ],
            now=clock.now,
        )
        hits = [NewHit(r, a.id, "**t**", ("t",)) for a in stored for r in rule_ids]
        return record_hits_and_enqueue(session=s, hits=hits, now=clock.now)


def dispatch(engine: Engine, clock: Clock) -> int:
    """One pass of the real dispatcher at the clock's time (digests due, then sends)."""

    async def main() -> int:
        limits = WebhookLimits(allow_private_networks=True)
        async with make_transport(limits) as transport:
            dispatcher = Dispatcher(
                engine,
                # Signed with the real time, which receivers check.
                {WEBHOOK: make_sender(transport, limits, utcnow)},
                owner="digest-test",
                config=DispatcherConfig(lease_seconds=30),
                retry=RetryPolicy(scale=0.001),
                clock=clock,
            )
            return await dispatcher.dispatch_once()

    return asyncio.run(main())


def schedule(engine: Engine, hook_id: int, clock: Clock, **settings: str) -> None:
    with session_scope(engine) as s:
        set_schedule(
            session=s,
            kind=WEBHOOK,
            channel_id=hook_id,
            schedule=Schedule.parse(**settings),
            now=clock.now,
        )


def events(receiver: WebhookReceiver, secret: str) -> list[tuple[str, dict]]:
    """(webhook-id, verified payload) of every request received."""
    return [
        (r.headers["webhook-id"], Webhook(secret).verify(r.body, r.headers))
        for r in receiver.deliveries
    ]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_hourly_digest_holds_exactly_its_hour(engine: Engine) -> None:
    """Hits of 09:xx go in one signed digest.created at 10:00, grouped by rule and newest
    first, with the same hit objects as hit.created; a 10:05 hit waits for 11:00, and an
    instant webhook of the same user gets every hit at once."""
    clock = Clock(utc(2026, 6, 1, 9, 0))
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id, 2)
    with WebhookReceiver() as digests, WebhookReceiver() as instant:
        hook_id, secret = add_webhook(engine, user_id, digests.url("/d"))
        _, instant_secret = add_webhook(engine, user_id, instant.url("/i"))
        schedule(engine, hook_id, clock, mode="hourly")
        clock.now = utc(2026, 6, 1, 9, 10)
        early = record(engine, clock, rules[:1], "a", 2)
        clock.now = utc(2026, 6, 1, 9, 50)
        late = record(engine, clock, rules, "b", 1)
        dispatch(engine, clock)
        assert digests.deliveries == []
        clock.now = utc(2026, 6, 1, 10, 5)
        next_hour = record(engine, clock, rules[:1], "c", 1)
        dispatch(engine, clock)

        [(msg_id, payload)] = events(digests, secret)
        assert payload["type"] == "digest.created" and msg_id.startswith("msg_nwdigest")
        hits = payload["data"]["hits"]
        # rule 1's newest (09:50) first, then rule 0 newest first: 09:50, then 09:10 x2.
        assert [h["rule"]["id"] for h in hits] == [rules[1], rules[0], rules[0], rules[0]]
        assert [h["hit_id"] for h in hits] == [late[1], late[0], *sorted(early, reverse=True)]
        instant_events = {
            p["data"]["hit_id"]: p["data"] for _, p in events(instant, instant_secret)
        }
        assert set(instant_events) == {*early, *late, *next_hour}
        for hit in hits:
            assert hit == instant_events[hit["hit_id"]]

        clock.now = utc(2026, 6, 1, 11, 0)
        dispatch(engine, clock)
        dispatch(engine, clock)  # sent once, built once
        second = events(digests, secret)[1:]
        assert [[h["hit_id"] for h in p["data"]["hits"]] for _, p in second] == [next_hour]
        assert len({m for m, _ in events(digests, secret)}) == 2

    with session_scope(engine, readonly=True) as s:
        statuses = s.execute(
            sa.select(Delivery.event_type, Delivery.status).where(
                Delivery.channel_kind == WEBHOOK, Delivery.channel_id == hook_id
            )
        ).all()
    # No hit of the digest channel went out on its own.
    assert sorted(statuses) == sorted(
        [("digest.created", "sent")] * 2 + [("hit.created", "digested")] * 5
    )


def test_daily_digest_at_local_time_across_spring_forward(engine: Engine) -> None:
    """Daily at 08:00 America/New_York: the day the clocks spring forward, nothing at
    08:00 EST-that-was (13:00 UTC is too late, 12:00 UTC is right): it fires at 12:00 UTC."""
    clock = Clock(utc(2026, 3, 7, 14))
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    with WebhookReceiver() as receiver:
        hook_id, secret = add_webhook(engine, user_id, receiver.url("/d"))
        schedule(engine, hook_id, clock, mode="daily", at="08:00", timezone="America/New_York")
        clock.now = utc(2026, 3, 8, 6)
        ids = record(engine, clock, rules, "a", 3)
        clock.now = utc(2026, 3, 8, 11, 59)
        dispatch(engine, clock)
        assert receiver.deliveries == []
        clock.now = utc(2026, 3, 8, 12, 0)
        dispatch(engine, clock)
        [(_, payload)] = events(receiver, secret)
        assert sorted(h["hit_id"] for h in payload["data"]["hits"]) == sorted(ids)


def test_quiet_hours_hold_then_send_one_digest(engine: Engine) -> None:
    """An instant channel with quiet hours 22:00-07:00 sends at once by day, holds the
    night's hits, and sends them as one digest at 07:00."""
    clock = Clock(utc(2026, 6, 1, 20))
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    with WebhookReceiver() as receiver:
        hook_id, secret = add_webhook(engine, user_id, receiver.url("/d"))
        schedule(engine, hook_id, clock, quiet_hours="22:00-07:00")
        clock.now = utc(2026, 6, 1, 21)
        day = record(engine, clock, rules, "a")
        dispatch(engine, clock)
        clock.now = utc(2026, 6, 1, 23)
        night = record(engine, clock, rules, "b", 2)
        clock.now = utc(2026, 6, 2, 3)
        night += record(engine, clock, rules, "c")
        dispatch(engine, clock)
        assert [p["type"] for _, p in events(receiver, secret)] == ["hit.created"]
        clock.now = utc(2026, 6, 2, 7)
        dispatch(engine, clock)
        got = events(receiver, secret)
        assert [p["type"] for _, p in got] == ["hit.created", "digest.created"]
        assert got[0][1]["data"]["hit_id"] == day[0]
        assert sorted(h["hit_id"] for h in got[1][1]["data"]["hits"]) == sorted(night)


def test_mute_records_hits_and_sends_nothing(engine: Engine) -> None:
    """A muted rule or channel still records its hits and alerts nobody; after the mute
    ends (or is lifted), alerts flow again."""
    clock = Clock(utc(2026, 6, 1, 9))
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id, 2)
    with WebhookReceiver() as receiver:
        hook_id, secret = add_webhook(engine, user_id, receiver.url("/d"))
        with session_scope(engine) as s:
            mute_rule(session=s, rule_id=rules[0], until=clock.now + timedelta(hours=2))
        muted = record(engine, clock, rules[:1], "a", 2)
        allowed = record(engine, clock, rules[1:], "b")
        with session_scope(engine) as s:
            mute_channel(
                session=s,
                kind=WEBHOOK,
                channel_id=hook_id,
                until=clock.now + timedelta(hours=1),
                now=clock.now,
            )
        channel_muted = record(engine, clock, rules[1:], "c")
        dispatch(engine, clock)
        clock.now += timedelta(hours=1, minutes=1)  # the channel mute is over
        after_channel = record(engine, clock, rules, "d")
        clock.now += timedelta(hours=1)  # and the rule's
        after_rule = record(engine, clock, rules[:1], "e")
        dispatch(engine, clock)
        sent = sorted(p["data"]["hit_id"] for _, p in events(receiver, secret))
    assert sent == sorted([*allowed, after_channel[1], *after_rule])
    with session_scope(engine, readonly=True) as s:
        recorded = set(s.scalars(sa.select(Hit.id)))
    assert {*muted, *channel_muted, *after_channel} <= recorded


def test_switching_back_to_instant_flushes_what_was_held(engine: Engine) -> None:
    """Held hits are never stranded: turning digests off sends them as one digest now."""
    clock = Clock(utc(2026, 6, 1, 9))
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    with WebhookReceiver() as receiver:
        hook_id, secret = add_webhook(engine, user_id, receiver.url("/d"))
        schedule(engine, hook_id, clock, mode="daily", at="08:00")
        held = record(engine, clock, rules, "a", 2)
        clock.now += timedelta(minutes=5)
        schedule(engine, hook_id, clock, mode="instant")
        dispatch(engine, clock)
        [(_, payload)] = events(receiver, secret)
        assert sorted(h["hit_id"] for h in payload["data"]["hits"]) == sorted(held)
        body = json.loads(receiver.deliveries[0].body)
        assert body["data"]["hit_count"] == 2


def test_a_story_shows_once_in_a_digest(engine: Engine) -> None:
    """Two copies of one story in two feeds (hit by two rules) and a second rule's hit on
    one copy make ONE entry, with "also in" and "also matched", in Telegram, e-mail (text
    and HTML) and Apprise; the webhook's data.hits[] keeps every hit object, and
    data.stories[] groups their ids as shown."""
    clock = Clock(utc(2026, 6, 1, 9, 0))
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id, 3)
    with WebhookReceiver() as receiver:
        hook_id, secret = add_webhook(engine, user_id, receiver.url("/d"))
        schedule(engine, hook_id, clock, mode="hourly")
        clock.now = utc(2026, 6, 1, 9, 10)
        [first] = record(engine, clock, rules[:1], "a", feed_url="http://one.example/rss")
        clock.now = utc(2026, 6, 1, 9, 20)
        copy = record(engine, clock, rules[1:], "b", feed_url="http://two.example/rss")
        clock.now = utc(2026, 6, 1, 9, 30)
        [other] = record(engine, clock, rules[:1], "c", feed_url="http://one.example/rss")
        with session_scope(engine) as s:
            story = s.get(Hit, first).article_id  # type: ignore[union-attr]
            copies = [s.get(Hit, h).article_id for h in copy]  # type: ignore[union-attr]
            s.execute(
                sa.update(Article).where(Article.id.in_([story, *copies])).values(story_id=story)
            )  # type: ignore[attr-defined]
            for url, title in (
                ("http://one.example/rss", "Feed One"),
                ("http://two.example/rss", "Feed Two"),
            ):
                s.execute(sa.update(Feed).where(Feed.url == url).values(title=title))
        clock.now = utc(2026, 6, 1, 10, 1)
        dispatch(engine, clock)
        [(_, payload)] = events(receiver, secret)
    data = payload["data"]
    # The story's newest hits first (copy b, by rules 1 and 2), then its first copy.
    assert [h["hit_id"] for h in data["hits"]] == [other, *sorted(copy, reverse=True), first]
    assert data["stories"] == [
        {"story": {"id": data["hits"][0]["story"]["id"], "articles": 1}, "hit_ids": [other]},
        {
            "story": {"id": story, "articles": 2},
            "hit_ids": [*sorted(copy, reverse=True), first],
        },
    ]

    with session_scope(engine, readonly=True) as s:
        [digest_delivery] = s.scalars(
            sa.select(Delivery.id).where(Delivery.event_type == "digest.created")
        ).all()
        [job] = load_jobs(session=s, delivery_ids=[digest_delivery])
    [telegram] = telegram_parts(job)
    config = EmailConfig(host="127.0.0.1")
    mail = build(
        replace(job, channel_target="a@example.org", channel_secret="k"), config, clock.now
    )
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    _, apprise_body = apprise_format(job)
    names = {hit.hit_id: hit.rule_name for hit in job.digest_hits}
    for body in (telegram, text, html, apprise_body):
        assert body.count("Story b 0") == 1 and "Story a 0" not in body, body
        assert "also in: Feed One" in body and "Story c 0" in body
        assert f"also matched: {names[copy[0]]}, {names[first]}" in body
    assert "Digest</b>: 2 alerts" in telegram and "digest: 2 alerts" in text
