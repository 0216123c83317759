"""The Telegram bot's commands: /start [code], /help, /watch, /rules, /unwatch, /test,
/pause and /resume, with inline buttons where they save typing; /digest, /quiet, /mute
and /unmute are in `telegram_modes`."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from notifiers.telegram_format import MAX_MESSAGE, escape, fit, marked, size, title_line, when
from notifiers.telegram_modes import MODE_COMMANDS, MODE_HELP, ModeCommands
from notifiers.telegram_send import bot_base_url
from rules import RuleIndex, RuleSyntaxError, article_document, parse
from store import session_scope
from store.articles import carrying_feeds, recent_articles
from store.rules import count_rules, create_rule, delete_rule, get_rule, list_rules
from store.tables import Rule
from store.telegram import ChatState, ensure_chat, redeem_link, set_paused

log = structlog.get_logger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
T = TypeVar("T")
# Every reply stays under Telegram's 4,096 characters: each part has a budget.
ECHO_BUDGET = 500  # a query said back
RULE_BUDGET = 250  # one rule in /rules
CARET_WIDTH = 60  # of a query line shown above a caret
MAX_ID_DIGITS = 18  # a rule id that fits the database
_TAG = re.compile(r"<[^>]*>")

COMMANDS = (
    ("start", "Start, or link this chat with a code from the API"),
    ("help", "What the bot can do"),
    ("watch", "Watch a rule, e.g. /watch ByteDance AND Huawei"),
    ("rules", "List your rules"),
    ("unwatch", "Stop a rule: /unwatch <id>"),
    ("backfill", "Alert a rule's stored matches of the alert window: /backfill <id>"),
    ("test", "Newest stored articles a query matches"),
    ("pause", "Pause alerts to this chat"),
    ("resume", "Resume alerts"),
    *MODE_COMMANDS,
)

HELP = (
    "I send an alert when a news article matches one of your rules.\n\n"
    "/watch <code>ByteDance AND Huawei</code> saves a rule. Rules use AND, OR, NOT, "
    '"phrases", prefix*, NEAR/n and title: or lang: fields. A new rule alerts only new '
    "articles; /watch <code>+6h query</code> also alerts the stored ones of the last 6 "
    "hours, and /backfill <code>id</code> those of the whole alert window.\n"
    "/rules lists your rules, /unwatch <code>id</code> removes one.\n"
    "/test <code>query</code> shows the newest stored articles that match.\n"
    "/pause and /resume stop and restart alerts to this chat.\n" + MODE_HELP
)


class BacklogFound(Protocol):
    @property
    def hours(self) -> float: ...
    @property
    def matching(self) -> int: ...
    @property
    def alerted(self) -> int: ...


class BacklogFn(Protocol):
    """Counts (and with `record`, alerts) a rule's stored matches of the last `hours`."""

    def __call__(
        self, *, session: Session, rule: Rule, now: datetime, hours: float, record: bool = False
    ) -> BacklogFound: ...


@dataclass(frozen=True)
class CommandConfig:
    max_rules_per_user: int = 10_000
    test_scan_articles: int = 2_000
    test_results: int = 5
    rules_per_page: int = 10
    alert_max_age_hours: float = 24.0
    # Given by the shell (monitor.backfill.backlog); None: /watch counts no backlog.
    backlog: BacklogFn | None = None


def build_application(token: str, api_url: str) -> Application:
    """A python-telegram-bot Application talking to the Bot API at `api_url`."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(bot_base_url(api_url))
        .get_updates_read_timeout(30)
        .build()
    )


async def register_commands(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])


class Commands:
    """The command handlers, on an engine; every reply is HTML."""

    def __init__(
        self, engine: Engine, config: CommandConfig, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock

    def install(self, app: Application) -> None:
        for name, handler in (
            ("start", self.start),
            ("help", self.help),
            ("watch", self.watch),
            ("rules", self.rules),
            ("unwatch", self.unwatch),
            ("backfill", self.backfill),
            ("test", self.test),
            ("pause", self.pause),
            ("resume", self.resume),
        ):
            app.add_handler(CommandHandler(name, handler))
        ModeCommands(self).install(app)
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_error_handler(self._error)

    async def _error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram.handler_failed", error=repr(context.error))

    # -- helpers ----------------------------------------------------------------------

    async def _db(self, fn: Callable[..., T], **kwargs: object) -> T:
        """Run one store function in its own transaction, off the event loop."""

        def run() -> T:
            with session_scope(self.engine) as session:
                return fn(session=session, **kwargs)

        return await asyncio.to_thread(run)

    async def _chat(self, update: Update, *, reactivate: bool = False) -> ChatState:
        chat = update.effective_chat
        assert chat is not None
        return await self._db(
            ensure_chat,
            chat_id=chat.id,
            title=chat.title or chat.full_name or chat.username or "",
            chat_type=chat.type,
            now=self.clock(),
            reactivate=reactivate,
        )

    async def _reply(
        self, update: Update, text: str, buttons: list[list[InlineKeyboardButton]] | None = None
    ) -> None:
        chat = update.effective_chat
        assert chat is not None
        if shown_size(text) > MAX_MESSAGE:  # a bug: Telegram would refuse it, and say nothing
            log.error("telegram.reply_too_long", chat_id=chat.id, size=shown_size(text))
            text, buttons = "⚠️ That answer came out too long to send.", None
        await chat.send_message(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
            link_preview_options=NO_PREVIEW,
        )

    # -- commands ---------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        state = await self._chat(update, reactivate=True)
        code = (context.args or [""])[0]
        if code:
            user = await self._db(
                redeem_link,
                code=code,
                chat_id=state.chat_id,
                now=self.clock(),
            )
            if user is None:
                await self._reply(update, "That link code is unknown, used or expired.")
                return
            await self._reply(
                update, f"✅ Linked: this chat now gets the alerts of <b>{fit(user.name, 200)}</b>."
            )
            return
        await self._reply(update, "👋 Welcome to newswatch.\n\n" + HELP)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._reply(update, HELP)

    async def watch(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        hours, query = backfill_prefix(self._query(update))
        if hours is not None and not 0 < hours <= self.config.alert_max_age_hours:
            await self._reply(
                update,
                f"Backfill goes at most {self.config.alert_max_age_hours:g} hours back: "
                "/watch <code>+6h ByteDance AND Huawei</code>",
            )
            return
        if not query:
            await self._reply(update, "Usage: /watch <code>ByteDance AND Huawei</code>")
            return
        try:
            parse(query)
        except RuleSyntaxError as exc:
            await self._reply(update, syntax_error(exc))
            return
        state = await self._chat(update)
        count = await self._db(count_rules, user_id=state.user_id)
        if count >= self.config.max_rules_per_user:
            await self._reply(update, "You have reached the rule limit; /unwatch one first.")
            return
        rule = await self._db(
            create_rule, user_id=state.user_id, name=query[:200], query=query, now=self.clock()
        )
        rule_id = rule.id
        row = [
            InlineKeyboardButton("Test it", callback_data=f"test:{rule_id}"),
            InlineKeyboardButton("Unwatch", callback_data=f"unwatch:{rule_id}"),
        ]
        text = f"✅ Watching rule #{rule_id}: <code>{fit(query, ECHO_BUDGET)}</code>"
        found = await self._backlog(rule, hours, record=hours is not None)
        if found is not None and found.alerted:
            text += (
                f"\n🕘 Alerting {found.alerted} stored article(s) of the last {found.hours:g} h."
            )
        elif found is not None and found.matching:
            text += (
                f"\n🕘 {found.matching} stored article(s) of the last {found.hours:g} h already "
                f"match. New rules alert only new articles: /backfill {rule_id} alerts them."
            )
            row.append(InlineKeyboardButton("Alert them", callback_data=f"backfill:{rule_id}"))
        await self._reply(update, text, [row])

    async def _backlog(
        self, rule: Rule, hours: float | None, *, record: bool
    ) -> BacklogFound | None:
        backlog = self.config.backlog
        if backlog is None:
            return None
        return await self._db(
            backlog,
            rule=rule,
            now=self.clock(),
            hours=hours or self.config.alert_max_age_hours,
            record=record,
        )

    async def backfill(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        rule_id = _rule_id((context.args or [""])[0].lstrip("#"))
        if rule_id is None:
            await self._reply(update, "Usage: /backfill <code>id</code> (see /rules)")
            return
        await self._backfill(update, rule_id)

    async def _backfill(self, update: Update, rule_id: int) -> None:
        state = await self._chat(update)
        rule = await self._db(get_rule, rule_id=rule_id, user_id=state.user_id)
        found = None if rule is None else await self._backlog(rule, None, record=True)
        if rule is None or found is None:
            await self._reply(update, f"No rule #{rule_id} here.")
        elif found.alerted:
            await self._reply(
                update, f"🕘 Alerting {found.alerted} stored article(s) for rule #{rule_id}."
            )
        else:
            await self._reply(
                update,
                f"Nothing to alert: no stored article of the last {found.hours:g} h is new to #{rule_id}.",
            )

    async def rules(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._rules_page(update, after_id=0)

    async def _rules_page(self, update: Update, after_id: int) -> None:
        """One page of the chat's rules, with an Unwatch button for each and Next / First
        buttons to page through them (keyset on the rule id)."""
        state = await self._chat(update)
        per_page = self.config.rules_per_page
        rows = await self._db(
            list_rules, user_id=state.user_id, limit=per_page + 1, after_id=after_id
        )
        more, rows = len(rows) > per_page, rows[:per_page]
        if not rows:
            text = "No more rules." if after_id else "No rules yet."
            await self._reply(update, text + " Try /watch <code>ByteDance AND Huawei</code>")
            return
        total = await self._db(count_rules, user_id=state.user_id)
        lines = [f"#{r.id} <code>{fit(r.query, RULE_BUDGET)}</code>" for r in rows]
        buttons = [
            [
                InlineKeyboardButton(f"Unwatch #{r.id}", callback_data=f"unwatch:{r.id}")
                for r in rows[i : i + 2]
            ]
            for i in range(0, len(rows), 2)
        ]
        paging = []
        if after_id:
            paging.append(InlineKeyboardButton("⏮ First", callback_data="rules:0"))
        if more:
            paging.append(InlineKeyboardButton("Next ▶", callback_data=f"rules:{rows[-1].id}"))
        if paging:
            buttons.append(paging)
        head = f"Your rules ({total}):" if not (more or after_id) else f"Your rules, of {total}:"
        await self._reply(update, head + "\n" + "\n".join(lines), buttons)

    async def unwatch(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        rule_id = _rule_id((context.args or [""])[0].lstrip("#"))
        if rule_id is None:
            await self._reply(update, "Usage: /unwatch <code>id</code> (see /rules)")
            return
        await self._unwatch(update, rule_id)

    async def _unwatch(self, update: Update, rule_id: int) -> None:
        state = await self._chat(update)
        deleted = await self._db(
            delete_rule, rule_id=rule_id, user_id=state.user_id, now=self.clock()
        )
        await self._reply(
            update, f"🗑 Rule #{rule_id} removed." if deleted else f"No rule #{rule_id} here."
        )

    async def test(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = self._query(update)
        if not query:
            await self._reply(update, "Usage: /test <code>ByteDance AND Huawei</code>")
            return
        await self._test(update, query)

    async def _test(self, update: Update, query: str) -> None:
        try:
            parsed = parse(query)
        except RuleSyntaxError as exc:
            await self._reply(update, syntax_error(exc))
            return
        rows = await self._db(recent_articles, limit=self.config.test_scan_articles)
        carriers = await self._db(carrying_feeds, article_ids=[a.id for a, _, _ in rows])
        index = RuleIndex()
        index.add(0, parsed)
        found = []
        for article, feed_id, feed_title in rows:
            doc = article_document(
                article, feed_id=feed_id, feed_title=feed_title, also=carriers.get(article.id, ())
            )
            hits = index.match(doc)
            if hits:
                found.append((article, feed_title, hits[0].snippet))
                if len(found) >= self.config.test_results:
                    break
        echo = fit(query, ECHO_BUDGET)
        if not found:
            await self._reply(update, f"No stored article matches <code>{echo}</code>.")
            return
        text = f"Newest matches for <code>{echo}</code>:"
        for article, feed_title, snippet in found:
            source = " · ".join(x for x in (fit(feed_title, 100), when(article.published_at)) if x)
            part = (
                f"\n\n{title_line(article.title[:300], article.url)}\n<i>{source}</i>\n"
                f"{fit(snippet, 400, marked)}"
            )
            if shown_size(text + part) > MAX_MESSAGE - 100:
                break  # the newest ones that fit
            text += part
        await self._reply(update, text)

    async def pause(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._pause(update, True)

    async def resume(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._pause(update, False)

    async def _pause(self, update: Update, paused: bool) -> None:
        state = await self._chat(update)
        await self._db(set_paused, chat_id=state.chat_id, paused=paused, now=self.clock())
        if paused:
            text, label, data = "⏸ Alerts paused.", "Resume", "resume"
        else:
            text, label, data = "▶️ Alerts resumed.", "Pause", "pause"
        await self._reply(update, text, [[InlineKeyboardButton(label, callback_data=data)]])

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        action, _, arg = (query.data or "").partition(":")
        rule_id = _rule_id(arg)
        if action == "unwatch" and rule_id is not None:
            await self._unwatch(update, rule_id)
        elif action == "backfill" and rule_id is not None:
            await self._backfill(update, rule_id)
        elif action == "rules" and rule_id is not None:
            await self._rules_page(update, after_id=rule_id)
        elif action == "test" and rule_id is not None:
            state = await self._chat(update)
            rule = await self._db(get_rule, rule_id=rule_id, user_id=state.user_id)
            if rule is None:
                await self._reply(update, f"No rule #{rule_id} here.")
            else:
                await self._test(update, rule.query)
        elif action in ("pause", "resume"):
            await self._pause(update, action == "pause")

    @staticmethod
    def _query(update: Update) -> str:
        """The text after the command, with its own spacing kept."""
        text = (update.effective_message.text if update.effective_message else None) or ""
        parts = text.split(None, 1)
        return parts[1].strip() if len(parts) > 1 else ""


def backfill_prefix(text: str) -> tuple[float | None, str]:
    """`+6h query` → (6.0, "query"); text without the prefix → (None, text)."""
    first, _, rest = text.partition(" ")
    if first.startswith("+") and first.endswith("h"):
        try:
            return float(first[1:-1]), rest.strip()
        except ValueError:
            pass
    return None, text


def _rule_id(arg: str) -> int | None:
    """A rule id typed or carried by a button; None for anything else."""
    return int(arg) if arg.isdigit() and len(arg) <= MAX_ID_DIGITS else None


def shown_size(text: str) -> int:
    """How long Telegram counts an HTML reply: its text once tags and entities are read
    (every text field in it is escaped, so each < starts one of our tags)."""
    return size(html.unescape(_TAG.sub("", text)))


def syntax_error(exc: RuleSyntaxError) -> str:
    """A refused query, with a caret under the bad spot in monospace; a long line is shown
    only around the bad spot."""
    line, _, caret = exc.caret().rpartition("\n")
    column = len(caret) - 1
    if len(line) > CARET_WIDTH:
        start = max(0, min(column - CARET_WIDTH // 2, len(line) - CARET_WIDTH))
        end = start + CARET_WIDTH
        head, tail = ("…" if start else ""), ("…" if end < len(line) else "")
        line = head + line[start:end] + tail
        column += len(head) - start
    return (
        f"❌ {fit(exc.message, ECHO_BUDGET)} at position {exc.position}:\n"
        f"<pre>{escape(line)}\n{' ' * column}^</pre>"
    )
