"""The outbox as `store/` fills it: which channel gets which hit, and how far behind it is."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import session_scope
from store.deliveries import outbox_stats
from store.tables import Hit
from tests.conftest import make_user
from tests.support.outbox import add_hits, add_rules, add_webhook, deliveries, utcnow


@pytest.mark.parametrize("rule_filter", ["first", "none", "second"])
def test_rule_ids_filter_picks_hits(engine: Engine, rule_filter: str) -> None:
    """A webhook gets the hits of the rules in its `rule_ids`, or all its owner's hits
    when it is null; never another user's."""
    user_id, _ = make_user(engine, "owner")
    stranger, _ = make_user(engine, "stranger")
    first, second = add_rules(engine, user_id, 2)
    add_rules(engine, stranger)
    rule_ids = {"first": [first], "none": None, "second": [second]}[rule_filter]
    hook_id, _ = add_webhook(engine, user_id, "http://127.0.0.1:9/hook", rule_ids)
    add_webhook(engine, stranger, "http://127.0.0.1:9/stranger")
    hit_ids = add_hits(engine, [first, second], 2)
    with session_scope(engine, readonly=True) as s:
        rule_of = dict(s.execute(sa.select(Hit.id, Hit.rule_id)).all())
    got = deliveries(engine)
    assert {d.channel_id for d in got} == {hook_id}
    expected = {h for h in hit_ids if rule_ids is None or rule_of[h] in rule_ids}
    assert {d.hit_id for d in got} == expected and len(got) == len(expected)


def test_outbox_stats(engine: Engine) -> None:
    """The pending count and the oldest pending delivery's creation time."""
    user_id, _ = make_user(engine, "owner")
    with session_scope(engine, readonly=True) as s:
        empty = outbox_stats(session=s)
    assert (empty.pending, empty.oldest_pending_at) == (0, None)
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    before = utcnow()
    add_hits(engine, add_rules(engine, user_id), 4)
    with session_scope(engine, readonly=True) as s:
        stats = outbox_stats(session=s)
    assert stats.pending == 4
    assert stats.oldest_pending_at is not None and stats.oldest_pending_at >= before.replace(
        microsecond=0
    )
