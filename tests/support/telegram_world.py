"""Telegram chats with hits queued for them, and an in-process dispatcher with the real
Telegram sender (python-telegram-bot) pointed at the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from newswatch.fake_telegram import TOKEN
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy
from notifiers.telegram_limiter import TelegramLimits
from notifiers.telegram_send import TelegramSender, make_bot
from store import create_engine, session_scope
from store.articles import insert_new_articles
from store.deliveries import pending_count
from store.feeds import add_feed
from store.hits import record_hits_and_enqueue
from store.rules import create_rule
from store.tables import Delivery, TelegramChat
from store.telegram import ensure_chat
from store.values import NewHit


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Story:
    """What `monitor.Article` carries, for `insert_new_articles`."""

    item_key: str
    url: str
    canonical_url: str
    title: str
    summary: str = "Summary"
    content: str = ""
    language: str = "en"
    author: str = ""
    published_at: datetime | None = None


def seed_alerts(
    engine: Engine,
    chat_ids: list[int],
    *,
    per_chat: int,
    title: str = "ByteDance and Huawei",
    url: str = "https://news.example/{n}",
    snippet: str = "**ByteDance** and **Huawei** talk",
) -> dict[int, int]:
    """Each chat gets its own user and rule, and `per_chat` alerts queued, interleaved
    across chats. Returns {chat_id: chat row id}."""
    rows: dict[int, int] = {}
    with session_scope(engine) as session:
        feed, _ = add_feed(
            session=session, url="https://news.example/feed", now=now(), title="Wire"
        )
        rules = {}
        for chat_id in chat_ids:
            state = ensure_chat(
                session=session,
                chat_id=chat_id,
                title="",
                chat_type="private" if chat_id > 0 else "group",
                now=now(),
            )
            rows[chat_id] = state.id
            rule = create_rule(
                session=session, user_id=state.user_id, name=f"rule {chat_id}", query="x", now=now()
            )
            rules[chat_id] = rule.id or 0
        stories = [
            Story(f"k{n}", url.format(n=n), f"https://news.example/{n}", title, published_at=now())
            for n in range(per_chat)
        ]
        stored = insert_new_articles(
            session=session, feed_id=feed.id or 0, articles=stories, now=now()
        )
        hits = [
            NewHit(rules[chat_id], article.id, snippet, ("bytedance", "huawei"))
            for article in stored
            for chat_id in chat_ids
        ]
        record_hits_and_enqueue(session=session, hits=hits, now=now())
    return rows


def dispatch_all(
    engine: Engine,
    api_url: str,
    *,
    limits: TelegramLimits | None = None,
    timeout: float = 30.0,
    owner: str = "test",
    config: DispatcherConfig | None = None,
) -> None:
    """Run a dispatcher with the real Telegram sender until nothing is pending."""

    async def run() -> None:
        bot = make_bot(TOKEN, api_url)
        await bot.initialize()
        sender = TelegramSender(bot, engine, limits=limits or TelegramLimits(), clock=now)
        dispatcher = Dispatcher(
            engine,
            {"telegram": sender},
            owner=owner,
            config=config or DispatcherConfig(poll_seconds=0.05),
            retry=RetryPolicy(scale=0.001),
            clock=now,
        )
        task = asyncio.create_task(dispatcher.run())
        deadline = time.monotonic() + timeout
        try:
            while await asyncio.to_thread(_pending, engine):
                assert time.monotonic() < deadline, "deliveries still pending"
                await asyncio.sleep(0.1)
        finally:
            dispatcher.stop()
            await task
            await bot.shutdown()

    asyncio.run(run())


def dispatch_once(
    engine: Engine, api_url: str, *, limits: TelegramLimits | None = None, scale: float = 0.001
) -> int:
    """One claim-send-record round of the dispatcher with the real Telegram sender: every
    outcome of the batch is recorded in one go. Returns how many were handled."""

    async def run() -> int:
        bot = make_bot(TOKEN, api_url)
        await bot.initialize()
        sender = TelegramSender(bot, engine, limits=limits or TelegramLimits(), clock=now)
        dispatcher = Dispatcher(
            engine,
            {"telegram": sender},
            owner="test",
            config=DispatcherConfig(),
            retry=RetryPolicy(scale=scale),
            clock=now,
        )
        try:
            return await dispatcher.dispatch_once()
        finally:
            await bot.shutdown()

    return asyncio.run(run())


def dispatch_in_process(db_url: str, api_url: str, owner: str, timeout: float) -> None:
    """`dispatch_all` in a process of its own (a replica), with a small claim per chat so
    that replicas share one chat's backlog."""
    engine = create_engine(db_url)
    try:
        dispatch_all(
            engine,
            api_url,
            timeout=timeout,
            owner=owner,
            config=DispatcherConfig(poll_seconds=0.05, per_endpoint_queue=2),
        )
    finally:
        engine.dispose()


def _pending(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as session:
        return pending_count(session=session)


def delivery_states(engine: Engine, chat_row_id: int, *, attempts: bool = False) -> list[Any]:
    """The statuses of a chat's deliveries (with their attempt counts if asked)."""
    with session_scope(engine, readonly=True) as session:
        rows = session.exec(
            select(Delivery.status, Delivery.attempts)
            .where(Delivery.channel_kind == "telegram", Delivery.channel_id == chat_row_id)
            .order_by(col(Delivery.id))
        ).all()
    return [tuple(r) if attempts else r[0] for r in rows]


def next_attempts(engine: Engine, chat_row_id: int) -> list[datetime]:
    """When each of a chat's deliveries is next due, in id order."""
    with session_scope(engine, readonly=True) as session:
        rows = session.exec(
            select(Delivery.next_attempt_at)
            .where(Delivery.channel_kind == "telegram", Delivery.channel_id == chat_row_id)
            .order_by(col(Delivery.id))
        ).all()
    return [r if r.tzinfo else r.replace(tzinfo=UTC) for r in rows]


def chat_active(engine: Engine, chat_id: int) -> bool:
    with session_scope(engine, readonly=True) as session:
        return bool(
            session.exec(
                select(TelegramChat.active).where(col(TelegramChat.chat_id) == chat_id)
            ).one()
        )
