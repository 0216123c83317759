"""Watch rules. Deletes are soft and every change bumps `updated_at`, so that each
process's in-memory index can sync incrementally from `rules_changed_since`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from store._sql import IN_CHUNK
from store.tables import Rule
from store.values import RuleRow


def create_rule(
    *,
    session: Session,
    user_id: int,
    name: str,
    query: str,
    now: datetime,
    feed_ids: list[int] | None = None,
    enabled: bool = True,
    per_story: bool = True,
) -> Rule:
    rule = Rule(
        user_id=user_id,
        name=name,
        query=query,
        feed_ids=feed_ids,
        enabled=enabled,
        per_story=per_story,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    session.flush()
    return rule


def get_rule(*, session: Session, rule_id: int, user_id: int | None = None) -> Rule | None:
    """A live rule; with `user_id`, only if that user owns it."""
    rule = session.get(Rule, rule_id)
    if rule is None or rule.deleted_at is not None:
        return None
    if user_id is not None and rule.user_id != user_id:
        return None
    return rule


def list_rules(
    *, session: Session, user_id: int, limit: int = 1000, after_id: int = 0
) -> list[Rule]:
    stmt = (
        select(Rule)
        .where(Rule.user_id == user_id, col(Rule.deleted_at).is_(None), col(Rule.id) > after_id)
        .order_by(col(Rule.id))
        .limit(limit)
    )
    return list(session.exec(stmt))


def count_rules(*, session: Session, user_id: int) -> int:
    stmt = select(func.count()).where(Rule.user_id == user_id, col(Rule.deleted_at).is_(None))
    return session.exec(stmt).one()


def update_rule(
    *, session: Session, rule_id: int, user_id: int, changes: dict[str, Any], now: datetime
) -> Rule | None:
    """Change only the given fields."""
    rule = get_rule(session=session, rule_id=rule_id, user_id=user_id)
    if rule is None:
        return None
    for key, value in changes.items():
        setattr(rule, key, value)
    rule.updated_at = now
    session.add(rule)
    session.flush()
    return rule


def delete_rule(*, session: Session, rule_id: int, user_id: int, now: datetime) -> bool:
    rule = get_rule(session=session, rule_id=rule_id, user_id=user_id)
    if rule is None:
        return False
    rule.deleted_at = now
    rule.enabled = False
    rule.updated_at = now
    session.add(rule)
    return True


def rules_changed_since(
    *,
    session: Session,
    since: datetime | None,
    applied: Callable[[int], datetime | None] | None = None,
    overlap: timedelta = timedelta(seconds=30),
) -> list[RuleRow]:
    """Rules changed after `since` (all live rules when None). The overlap absorbs
    transactions that committed late with an earlier `updated_at`. `applied(id)` gives
    the `updated_at` a caller already holds for a rule: those rows are not read again
    (after a bulk import, every rule is in the overlap window for a while)."""
    table: sa.Table = Rule.__table__  # type: ignore[attr-defined]
    # Core, not ORM instances: a sync may read every rule.
    stmt = sa.select(
        table.c.id,
        table.c.user_id,
        table.c.query,
        table.c.feed_ids,
        table.c.enabled,
        table.c.deleted_at,
        table.c.updated_at,
    ).order_by(table.c.id)
    if since is None:
        stmt = stmt.where(table.c.deleted_at.is_(None))
    else:
        window = table.c.updated_at >= since - overlap
        if applied is not None:
            stamps = session.execute(sa.select(table.c.id, table.c.updated_at).where(window))
            ids = [id_ for id_, updated_at in stamps if applied(id_) != updated_at]
            if not ids:
                return []
            return [
                row
                for chunk in range(0, len(ids), IN_CHUNK)
                for row in _rule_rows(
                    session, stmt.where(table.c.id.in_(ids[chunk : chunk + IN_CHUNK]))
                )
            ]
        stmt = stmt.where(window)
    return _rule_rows(session, stmt)


def _rule_rows(session: Session, stmt: sa.Select[Any]) -> list[RuleRow]:
    return [
        RuleRow(
            id=r.id,
            user_id=r.user_id,
            query=r.query,
            feed_ids=tuple(r.feed_ids) if r.feed_ids is not None else None,
            active=r.enabled and r.deleted_at is None,
            updated_at=r.updated_at,
        )
        for r in session.execute(stmt)
    ]


def latest_rule_change(*, session: Session) -> datetime | None:
    return session.exec(select(sa.func.max(Rule.updated_at))).one()
