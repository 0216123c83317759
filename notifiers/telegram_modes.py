"""The bot's delivery-mode commands: /digest, /quiet, /mute and /unmute. Each works on
the chat it is sent in; bad times, zones and durations get an answer naming the value."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from notifiers.telegram_format import escape
from store.channels import (
    get_setting,
    mute_channel,
    mute_rule,
    schedule_of,
    set_schedule,
    unmute_rules,
)
from store.rules import get_rule
from store.schedule import DAILY, HOURLY, INSTANT, Schedule, ScheduleError
from store.tables import ChannelSetting

if TYPE_CHECKING:
    from notifiers.telegram_bot import Commands

TELEGRAM = "telegram"
MAX_MUTE = timedelta(days=366)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")

MODE_COMMANDS = (
    ("digest", "Digests: /digest hourly, /digest daily 08:00 Asia/Jakarta, /digest off"),
    ("quiet", "Quiet hours: /quiet 22:00-07:00, /quiet off"),
    ("mute", "Snooze: /mute <rule id|all> 2h"),
    ("unmute", "Unmute this chat and your rules: /unmute [rule id]"),
)

MODE_HELP = (
    "/digest <code>hourly</code>, /digest <code>daily 08:00 Asia/Jakarta</code> or "
    "/digest <code>off</code> gathers alerts into digests.\n"
    "/quiet <code>22:00-07:00</code> holds alerts at night and sends one digest when it "
    "ends; /quiet <code>off</code>.\n"
    "/mute <code>all 2h</code> snoozes this chat, /mute <code>12 1d</code> one rule; "
    "/unmute lifts them."
)


def parse_duration(text: str) -> timedelta:
    """'2h', '90m', '1d12h', '45s' -> timedelta; ValueError naming the text otherwise."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration like 2h, 30m or 1d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not span or span > MAX_MUTE:
        raise ValueError(f"{text!r}: a mute lasts from a second to a year")
    return span


def describe(setting: ChannelSetting | None) -> str:
    """The chat's current mode in one line, with the next digest in its own zone."""
    schedule = schedule_of(setting)
    if schedule.mode == HOURLY:
        text = "hourly digests"
    elif schedule.mode == DAILY:
        text = f"a daily digest at {schedule.at:%H:%M} {schedule.zone.key}"
    else:
        text = "instant alerts"
    if schedule.quiet:
        text += f", quiet {schedule.quiet} {schedule.zone.key}"
    if setting is not None and setting.next_digest_at is not None:
        local = setting.next_digest_at.astimezone(schedule.zone)
        text += f"; next digest {local:%Y-%m-%d %H:%M} {schedule.zone.key}"
    return text


class ModeCommands:
    """/digest, /quiet, /mute and /unmute, on the bot's `Commands` helpers."""

    def __init__(self, commands: Commands) -> None:
        self.c = commands

    def install(self, app: Application) -> None:
        for name, handler in (
            ("digest", self.digest),
            ("quiet", self.quiet),
            ("mute", self.mute),
            ("unmute", self.unmute),
        ):
            app.add_handler(CommandHandler(name, handler))

    async def _store(self, update: Update, **fields: str) -> None:
        """Apply the fields over the chat's current schedule and answer with the result."""
        state = await self.c._chat(update)
        now = self.c.clock()

        def save(*, session: Session) -> str:
            old = schedule_of(get_setting(session=session, kind=TELEGRAM, channel_id=state.id))
            merged = {
                "mode": old.mode,
                "at": f"{old.at:%H:%M}" if old.at else "",
                "timezone": old.zone.key,
                "quiet_hours": str(old.quiet or ""),
                **fields,
            }
            schedule = Schedule.parse(**merged)
            setting = set_schedule(
                session=session, kind=TELEGRAM, channel_id=state.id, schedule=schedule, now=now
            )
            return describe(setting)

        try:
            text = await self.c._db(save)
        except ScheduleError as exc:
            await self.c._reply(update, f"❌ {escape(exc.message)}")
            return
        await self.c._reply(update, f"✅ This chat now gets {escape(text)}.")

    async def digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        usage = (
            "Usage: /digest <code>hourly</code>, /digest <code>daily 08:00 Asia/Jakarta</code>"
            " or /digest <code>off</code>"
        )
        if not args:
            await self.c._reply(update, usage)
        elif args[0] == "hourly" and len(args) <= 2:
            await self._store(update, mode=HOURLY, **({"timezone": args[1]} if args[1:] else {}))
        elif args[0] == "daily" and len(args) in (2, 3):
            zone = {"timezone": args[2]} if len(args) == 3 else {}
            await self._store(update, mode=DAILY, at=args[1], **zone)
        elif args[0] == "daily":
            await self.c._reply(update, "Usage: /digest daily <code>08:00 Asia/Jakarta</code>")
        elif args == ["off"]:
            await self._store(update, mode=INSTANT, at="")
        else:
            await self.c._reply(update, usage)

    async def quiet(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if args == ["off"]:
            await self._store(update, quiet_hours="")
        elif len(args) in (1, 2):
            zone = {"timezone": args[1]} if len(args) == 2 else {}
            await self._store(update, quiet_hours=args[0], **zone)
        else:
            await self.c._reply(
                update, "Usage: /quiet <code>22:00-07:00</code> [timezone] or /quiet off"
            )

    async def mute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if len(args) != 2 or not (args[0] == "all" or args[0].lstrip("#").isdigit()):
            await self.c._reply(
                update, "Usage: /mute <code>all 2h</code> or /mute <code>12 1d</code>"
            )
            return
        try:
            span = parse_duration(args[1])
        except ValueError as exc:
            await self.c._reply(update, f"❌ {escape(str(exc))}")
            return
        state = await self.c._chat(update)
        now = self.c.clock()
        until = now + span
        if args[0] == "all":
            await self.c._db(mute_channel, kind=TELEGRAM, channel_id=state.id, until=until, now=now)
            what = "This chat is"
        else:
            rule_id = int(args[0].lstrip("#"))
            rule = await self.c._db(get_rule, rule_id=rule_id, user_id=state.user_id)
            if rule is None:
                await self.c._reply(update, f"No rule #{rule_id} here.")
                return
            await self.c._db(mute_rule, rule_id=rule_id, until=until)
            what = f"Rule #{rule_id} is"
        await self.c._reply(
            update, f"🔕 {what} muted until {until:%Y-%m-%d %H:%M} UTC. /unmute lifts it."
        )

    async def unmute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        state = await self.c._chat(update)
        if args and args[0].lstrip("#").isdigit():
            rule_id = int(args[0].lstrip("#"))
            if await self.c._db(get_rule, rule_id=rule_id, user_id=state.user_id) is None:
                await self.c._reply(update, f"No rule #{rule_id} here.")
                return
            await self.c._db(mute_rule, rule_id=rule_id, until=None)
            await self.c._reply(update, f"🔔 Rule #{rule_id} is unmuted.")
            return
        now = self.c.clock()
        await self.c._db(mute_channel, kind=TELEGRAM, channel_id=state.id, until=None, now=now)
        await self.c._db(unmute_rules, user_id=state.user_id)
        await self.c._reply(update, "🔔 This chat and your rules are unmuted.")
