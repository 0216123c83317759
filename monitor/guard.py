"""The SSRF guard: only http(s) URLs whose host resolves to public addresses only."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from monitor.errors import BlockedURLError

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_6TO4 = ipaddress.ip_network("2002::/16")


def check_scheme(url: str) -> str:
    """Refuse anything but an absolute http(s) URL with a host; return the host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise BlockedURLError(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedURLError(
            f"only http and https URLs are allowed, not {parts.scheme or 'no'} scheme"
        )
    if not host:
        raise BlockedURLError(f"URL {url!r} has no host")
    if parts.username or parts.password:
        raise BlockedURLError("URLs with credentials are not allowed")
    return host


def is_public(address: str) -> bool:
    """True only for a globally routable address, looking inside mapped and NAT64 forms."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return False
        if ip in _NAT64 or ip in _6TO4 or ip.teredo is not None:
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedURLError(f"cannot resolve {host!r}: {exc.strerror}") from None
    return sorted({str(info[4][0]) for info in infos})


async def check_url(url: str, *, allow_private: bool = False) -> list[str]:
    """Check a URL before connecting; return the addresses it resolves to."""
    host = check_scheme(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(host, port)
    if not allow_private:
        bad = [a for a in addresses if not is_public(a)]
        if bad:
            raise BlockedURLError(f"{host} resolves to a non-public address ({bad[0]})")
    return addresses
