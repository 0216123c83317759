"""Article identity: canonical URLs and per-feed keys."""

from __future__ import annotations

import pytest

from monitor.dedupe import canonical_url, item_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://News.Example.COM/a?utm_source=x&id=3#top", "https://news.example.com/a?id=3"),
        ("http://example.com:80/a?fbclid=1&gclid=2", "http://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("javascript:alert(1)", ""),
        ("", ""),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    """Host lower-cased, fragment and tracking parameters dropped."""
    assert canonical_url(url) == expected


def test_item_key_prefers_guid_then_link_then_content() -> None:
    """guid wins over link, link over a hash of title and summary."""
    assert item_key(guid="g", link="l", title="t", summary="s") == item_key(
        guid="g", link="x", title="", summary=""
    )
    assert item_key(guid="", link="l", title="t", summary="s") == item_key(
        guid="", link="l", title="u", summary=""
    )
    assert item_key(guid="", link="", title="t", summary="s") != item_key(
        guid="", link="", title="t", summary="z"
    )
