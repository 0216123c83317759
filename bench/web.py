"""Dashboard render times at scale: `python -m bench.web --hits 10000 --rules 5000`.

Seeds a temporary SQLite database (one user with N rules, a tenth of them muted, and M
hits over M articles in 20 feeds, every three articles in a row one story; 50 webhook
deliveries; 20 e-mail and Apprise channels), then renders each page in process through the real app
(routing, session check, queries, templates) and reports the median and worst time per
page. Prints one JSON object last: {"hits","rules","pages":{path: p50_ms},"max_ms","bytes"}.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

# Starlette prefers the httpx2 fork for its TestClient; httpx works the same here.
warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
from fastapi.testclient import TestClient  # noqa: E402

from api import ApiConfig, create_app  # noqa: E402
from api.tokens import issue_token  # noqa: E402
from store import create_engine, session_scope  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.tables import metadata  # noqa: E402
from store.users import create_user  # noqa: E402

ROUNDS = 15


def seed(engine: sa.Engine, *, hits: int, rules: int) -> str:
    """A user owning `rules` rules and `hits` hits; returns the user's token."""
    now = datetime.now(UTC)
    t = metadata.tables
    with session_scope(engine) as session:
        user = create_user(session=session, name="bench", now=now, is_admin=True)
        user_id = user.id or 0
        _, token = issue_token(session=session, user_id=user_id, now=now)
    with engine.begin() as conn:
        conn.execute(
            t["feeds"].insert(),
            [
                {
                    "url": f"https://news{i}.example/rss", "title": f"News {i}", "site_url": "",
                    "language": "en", "status": "ok", "error_count": 0, "last_error": "",
                    "next_poll_at": now, "etag": "", "last_modified": "", "body_hash": "",
                    "lease_owner": "", "created_at": now,
                }
                for i in range(20)
            ],
        )  # fmt: skip
        conn.execute(
            t["rules"].insert(),
            [
                {
                    "user_id": user_id, "name": f"rule {i}", "query": f"Company{i} AND chips",
                    "enabled": True, "created_at": now, "updated_at": now,
                }
                for i in range(rules)
            ],
        )  # fmt: skip
        conn.execute(
            t["articles"].insert(),
            [
                {
                    "url_hash": f"{i:064x}", "url": f"https://news.example/a/{i}",
                    "canonical_url": f"https://news.example/a/{i}",
                    "title": f"Company{i % rules} ships new chips, story {i}",
                    "summary": "Company news about chips and exports. " * 10, "content": "",
                    "language": "en", "author": "",
                    "published_at": now - timedelta(minutes=i), "fetched_at": now,
                    "created_at": now, "story_id": 1 + i - i % 3,
                }
                for i in range(hits)
            ],
        )  # fmt: skip
        conn.execute(
            t["feed_articles"].insert(),
            [
                {"feed_id": 1 + i % 20, "article_id": 1 + i, "item_key": f"k{i}",
                 "first_seen_at": now - timedelta(minutes=i)}
                for i in range(hits)
            ],
        )  # fmt: skip
        conn.execute(
            t["hits"].insert(),
            [
                {
                    "rule_id": 1 + i % rules, "article_id": 1 + i, "user_id": user_id,
                    "snippet": f"**Company{i % rules}** ships new **chips**, story {i}",
                    "matched_terms": [f"company{i % rules}", "chips"], "created_at": now,
                }
                for i in range(hits)
            ],
        )  # fmt: skip
        conn.execute(
            t["rule_mutes"].insert(),
            [{"rule_id": 1 + i, "until": now + timedelta(hours=8)} for i in range(0, rules, 10)],
        )
        conn.execute(
            t["channels"].insert(),
            [
                {
                    "user_id": user_id, "kind": "email" if i % 2 else "apprise",
                    "target": f"desk{i}@news.example" if i % 2 else f"ntfy://n.example/t{i}",
                    "display": f"desk{i}@news.example" if i % 2 else f"ntfy://n.example/t{i}",
                    "active": True, "disabled_reason": "", "confirmed_at": now,
                    "link_secret": "", "created_at": now,
                }
                for i in range(20)
            ],
        )  # fmt: skip
        conn.execute(
            t["webhooks"].insert(),
            [{"user_id": user_id, "url": "https://hooks.example/in", "secret": "whsec_x",
              "active": True, "disabled_reason": "", "created_at": now}],
        )  # fmt: skip
        conn.execute(
            t["deliveries"].insert(),
            [
                {
                    "hit_id": 1 + i, "user_id": user_id, "channel_kind": "webhook",
                    "channel_id": 1, "event_type": "hit.created", "status": "dead",
                    "attempts": 9, "next_attempt_at": now, "lease_owner": "",
                    "last_status_code": 500, "last_error": "HTTP 500", "created_at": now,
                    "updated_at": now,
                }
                for i in range(50)
            ],
        )  # fmt: skip
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="renders of each page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        token = seed(engine, hits=args.hits, rules=args.rules)
        client = TestClient(create_app(engine=engine, config=ApiConfig()))
        form = client.get("/signin").text
        nonce = re.search(r'name="nonce" value="([^"]+)"', form)
        assert nonce is not None
        client.post("/signin", data={"token": token, "nonce": nonce[1]}, follow_redirects=False)
        paths = [
            "/", "/?rule_id=7", "/?cursor=h5000", "/rules", "/rules?after=4800", "/rules/7",
            "/stories/4", "/feeds", "/channels", "/channels/webhooks/1", "/channels/1", "/admin",
        ]  # fmt: skip
        pages: dict[str, float] = {}
        worst = 0.0
        biggest = 0
        for path in paths:
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            biggest = max(biggest, len(answer.content))
            pages[path] = round(statistics.median(times), 1)
            worst = max(worst, max(times))
            print(f"{path:28} p50 {pages[path]:7.1f} ms  max {max(times):7.1f} ms  "
                  f"{len(answer.content) / 1024:6.1f} KB")  # fmt: skip
        engine.dispose()
    print(
        json.dumps(
            {"hits": args.hits, "rules": args.rules, "pages": pages,
             "max_ms": round(worst, 1), "bytes": biggest}
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
