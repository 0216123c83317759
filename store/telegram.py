"""Telegram chats, link codes, and the advisory lock that picks the one update receiver."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from store.tables import ApiToken, Delivery, Rule, TelegramChat, TelegramLink, User
from store.users import create_user

# pg_try_advisory_lock key: "newswatch telegram receiver", as a stable 63-bit number.
RECEIVER_LOCK_KEY = 0x6E77_7467_7263_7631


@dataclass(frozen=True, slots=True)
class ChatState:
    """A chat as the bot sees it."""

    id: int
    chat_id: int
    user_id: int
    active: bool
    paused: bool
    created: bool = False  # made just now, with its own user


def _state(chat: TelegramChat, created: bool = False) -> ChatState:
    return ChatState(
        id=chat.id or 0,
        chat_id=chat.chat_id,
        user_id=chat.user_id,
        active=chat.active,
        paused=chat.paused,
        created=created,
    )


def ensure_chat(
    *,
    session: Session,
    chat_id: int,
    title: str,
    chat_type: str,
    now: datetime,
    reactivate: bool = False,
) -> ChatState:
    """The chat's row; a chat not known yet gets its own user. `reactivate` (on /start)
    turns a chat that was deactivated (it had blocked the bot) back on."""
    chat = session.exec(select(TelegramChat).where(TelegramChat.chat_id == chat_id)).first()
    if chat is None:
        user = create_user(session=session, name=f"telegram:{chat_id}"[:200], now=now)
        chat = TelegramChat(
            chat_id=chat_id,
            user_id=user.id or 0,
            title=title[:500],
            chat_type=chat_type[:32],
            created_at=now,
            updated_at=now,
        )
        session.add(chat)
        session.flush()
        return _state(chat, created=True)
    if reactivate and not chat.active:
        chat.active = True
        chat.updated_at = now
        session.add(chat)
        session.flush()
    return _state(chat)


def set_paused(*, session: Session, chat_id: int, paused: bool, now: datetime) -> bool:
    """Pause or resume alerts to a chat; False when the chat is unknown."""
    result = session.execute(
        sa.update(TelegramChat)
        .where(col(TelegramChat.chat_id) == chat_id)
        .values(paused=paused, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def chat_is_active(*, session: Session, chat_row_id: int) -> bool:
    return bool(
        session.exec(select(TelegramChat.active).where(TelegramChat.id == chat_row_id)).first()
    )


def deactivate_chat(*, session: Session, chat_row_id: int, reason: str, now: datetime) -> int:
    """Stop sending to a chat that blocked the bot or is gone: the chat turns inactive and
    its pending deliveries that no process is sending right now die. Returns how many."""
    session.execute(
        sa.update(TelegramChat)
        .where(col(TelegramChat.id) == chat_row_id)
        .values(active=False, updated_at=now)
    )
    result = session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.channel_kind) == "telegram",
            col(Delivery.channel_id) == chat_row_id,
            col(Delivery.status) == "pending",
            sa.or_(col(Delivery.lease_expires_at).is_(None), col(Delivery.lease_expires_at) < now),
        )
        .values(status="dead", last_error=reason[:1000], updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def migrate_chat(*, session: Session, chat_row_id: int, new_chat_id: int, now: datetime) -> bool:
    """A group became a supergroup, which has a new id: the chat's row moves to it, so that
    its user (and so its links and rules), its settings and its deliveries stay. A row the
    new id already has (someone wrote to the bot from the supergroup first) gives way,
    handing over its deliveries and, if it was the chat's own user, its rules.
    Returns False when the row is unknown; moving twice is harmless."""
    chat = session.get(TelegramChat, chat_row_id)
    if chat is None:
        return False
    if chat.chat_id == new_chat_id:
        return True
    old_chat_id = chat.chat_id
    other = session.exec(select(TelegramChat).where(TelegramChat.chat_id == new_chat_id)).first()
    if other is not None:
        if other.user_id != chat.user_id and _chat_own_user(session, other.user_id):
            session.execute(
                sa.update(Rule)
                .where(col(Rule.user_id) == other.user_id, col(Rule.deleted_at).is_(None))
                .values(user_id=chat.user_id, updated_at=now)
            )
        ours = col(Delivery.channel_kind) == "telegram", col(Delivery.channel_id) == other.id
        already = select(Delivery.hit_id).where(
            col(Delivery.channel_kind) == "telegram",
            col(Delivery.channel_id) == chat_row_id,
            col(Delivery.hit_id).is_not(None),
        )
        # Both rows of one user: a hit queued for both is sent once, from the moved row.
        session.execute(
            sa.update(Delivery)
            .where(*ours, col(Delivery.hit_id).in_(already), col(Delivery.status) == "pending")
            .values(
                status="dead", last_error="the same alert is queued for this chat", updated_at=now
            )
        )
        session.execute(
            sa.update(Delivery)
            .where(
                *ours, sa.or_(col(Delivery.hit_id).is_(None), col(Delivery.hit_id).not_in(already))
            )
            .values(channel_id=chat_row_id)
        )
        session.delete(other)
        session.flush()
    chat.chat_id = new_chat_id
    chat.chat_type = "supergroup"
    chat.updated_at = now
    session.add(chat)
    session.execute(
        sa.update(TelegramLink)
        .where(col(TelegramLink.chat_id) == old_chat_id)
        .values(chat_id=new_chat_id)
    )
    session.flush()
    return True


def code_hash(code: str) -> str:
    """Link codes are stored only as a SHA-256 hash, like API tokens."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def create_link(
    *, session: Session, user_id: int, code: str, now: datetime, expires_at: datetime
) -> TelegramLink:
    """A one-time link code that `/start <code>` redeems before `expires_at`."""
    link = TelegramLink(
        user_id=user_id, code_hash=code_hash(code), created_at=now, expires_at=expires_at
    )
    session.add(link)
    session.flush()
    return link


def redeem_link(*, session: Session, code: str, chat_id: int, now: datetime) -> User | None:
    """Link the chat to the code's user, once and before expiry; None for a bad code.
    The chat must exist (see `ensure_chat`)."""
    hashed = code_hash(code)
    result = session.execute(
        sa.update(TelegramLink)
        .where(
            col(TelegramLink.code_hash) == hashed,
            col(TelegramLink.used_at).is_(None),
            col(TelegramLink.expires_at) > now,
        )
        .values(used_at=now, chat_id=chat_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    user_id = session.exec(
        select(TelegramLink.user_id).where(TelegramLink.code_hash == hashed)
    ).one()
    previous = session.exec(
        select(TelegramChat.user_id).where(TelegramChat.chat_id == chat_id)
    ).first()
    if previous is not None and previous != user_id and _chat_own_user(session, previous):
        # The rules the chat made with /watch before linking come along.
        session.execute(
            sa.update(Rule)
            .where(col(Rule.user_id) == previous, col(Rule.deleted_at).is_(None))
            .values(user_id=user_id, updated_at=now)
        )
    session.execute(
        sa.update(TelegramChat)
        .where(col(TelegramChat.chat_id) == chat_id)
        .values(user_id=user_id, active=True, updated_at=now)
    )
    return session.get(User, user_id)


def _chat_own_user(session: Session, user_id: int) -> bool:
    """A user made for one chat (see `ensure_chat`): no API token, and only that chat."""
    tokens = session.exec(select(ApiToken.id).where(ApiToken.user_id == user_id).limit(1)).first()
    chats = session.exec(select(sa.func.count()).where(col(TelegramChat.user_id) == user_id)).one()
    return tokens is None and chats == 1


def try_receiver_lock(conn: Connection) -> bool:
    """Take the session-level advisory lock on this dedicated PostgreSQL connection; it is
    held until the connection closes. SQLite runs one process, so it always succeeds."""
    if conn.dialect.name != "postgresql":
        return True
    got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(RECEIVER_LOCK_KEY))).scalar()
    conn.commit()
    return bool(got)


def release_receiver_lock(conn: Connection) -> None:
    """Give the lock up and drop the connection: a pooled connection would keep holding a
    session-level lock after `close()`."""
    if conn.dialect.name == "postgresql":
        try:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(RECEIVER_LOCK_KEY)))
            conn.commit()
        finally:
            conn.invalidate()
    conn.close()


def ping(conn: Connection) -> None:
    """Raise when the connection (and so the lock it holds) is gone."""
    conn.execute(sa.text("SELECT 1"))
    conn.commit()
