"""The SSRF guard, ON: private targets are refused before any byte reaches them, the
address dialled is the address checked, and redirects are checked again."""

from __future__ import annotations

import asyncio

import pytest

from monitor import FetchLimits
from monitor.errors import BlockedURLError, FetchError
from monitor.fetch import fetch, make_client
from net.guard import Guard, check_url, is_public, literal_address
from tests.support.servers import LoopbackServer, Reply

FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


def stub_resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver that answers from `table` (and records what it was asked)."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return table[host]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


@pytest.fixture
def target() -> LoopbackServer:
    with LoopbackServer(lambda request: Reply(200, FEED)) as server:
        yield server  # type: ignore[misc]


def _fetch(url: str, guard: Guard) -> None:
    limits = FetchLimits(timeout_seconds=3, connect_timeout_seconds=1, guard=guard)

    async def go() -> None:
        async with make_client(limits) as client:
            await fetch(client, url, limits=limits)

    asyncio.run(go())


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/feed",
        "http://[::1]:{port}/feed",
        "http://[::ffff:127.0.0.1]:{port}/feed",
        "http://0x7f000001:{port}/feed",
        "http://2130706433:{port}/feed",
        "http://0177.0.0.1:{port}/feed",
        "http://127.1:{port}/feed",
        "http://0.0.0.0:{port}/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/feed",
        "http://[64:ff9b::7f00:1]:{port}/feed",
        "http://[2002:7f00:1::]:{port}/feed",
        "http://10.0.0.1/feed",
        "http://localhost:{port}/feed",
    ],
)
def test_private_targets_are_refused(target: LoopbackServer, template: str) -> None:
    """Each private form is refused by the fetch, and the loopback server sees nothing."""
    url = template.format(port=target.port)
    with pytest.raises(BlockedURLError):
        _fetch(url, Guard())
    with pytest.raises(BlockedURLError):
        asyncio.run(check_url(url))
    assert target.requests == []


def test_mixed_public_and_private_resolution_is_refused(target: LoopbackServer) -> None:
    """A name that resolves to a public AND a private address is refused outright."""
    resolver = stub_resolver({"mixed.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(BlockedURLError, match=r"127\.0\.0\.1"):
        _fetch(f"http://mixed.example:{target.port}/feed", Guard(resolver=resolver))
    assert resolver.asked == ["mixed.example"]
    assert target.requests == []


def test_redirect_to_loopback_is_refused(target: LoopbackServer) -> None:
    """An allowed server redirecting to a private address: the redirect target is refused."""
    location = target.url("/feed")
    with LoopbackServer(lambda request: Reply(302, b"", {"location": location})) as bouncer:
        guard = Guard(allowlist=(f"127.0.0.1:{bouncer.port}",))
        with pytest.raises(BlockedURLError):
            _fetch(bouncer.url("/start"), guard)
        assert len(bouncer.requests) == 1
    assert target.requests == []


def test_dial_uses_the_checked_address(target: LoopbackServer) -> None:
    """Pinning: the connection goes to the address the guard resolved and checked (a name
    the system cannot resolve), while the Host header keeps the name."""
    resolver = stub_resolver({"pinned.invalid": ["127.0.0.1"]})
    guard = Guard(resolver=resolver, allowlist=(f"127.0.0.1:{target.port}",))
    _fetch(f"http://pinned.invalid:{target.port}/feed", guard)
    assert resolver.asked == ["pinned.invalid"]
    assert [r.headers["host"] for r in target.requests] == [f"pinned.invalid:{target.port}"]


def test_allowlist_opens_one_port_only(target: LoopbackServer) -> None:
    """The allowlist names one service: the same address on another port stays closed."""
    with pytest.raises(BlockedURLError):
        _fetch(target.url("/feed"), Guard(allowlist=(f"127.0.0.1:{target.port + 1}",)))
    _fetch(target.url("/feed"), Guard(allowlist=("127.0.0.0/8",)))
    assert len(target.requests) == 1


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x/", "http://u:p@example.com/"]
)
def test_only_plain_http_and_https_urls(url: str) -> None:
    """Other schemes and URLs with credentials never get as far as a connection."""
    with pytest.raises(FetchError):
        _fetch(url, Guard())


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("example.com", None),
        ("deadbeef", None),
    ],
)
def test_literal_address_forms(host: str, expected: str | None) -> None:
    """Numeric host forms are read the way inet_aton reads them; names are not addresses."""
    found = literal_address(host)
    assert (str(found) if found else None) == expected


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("::ffff:93.184.216.34", False),
        ("64:ff9b::5db8:d822", False),
        ("2002:5db8:d822::1", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),  # site-local: Python 3.11 calls it global
        ("feff:ffff::1", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    """Mapped, NAT64, 6to4 and Teredo forms count as non-public whatever they wrap, and so
    does site-local fec0::/10."""
    assert is_public(address) is public
