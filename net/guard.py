"""The SSRF guard: only http(s) URLs whose host resolves to public addresses only.

`Guard.connect_addresses` is called at connect time by `net.transport`, which then
dials the very address it checked (pinning), so a DNS answer that changes between the
check and the connection (rebinding) cannot reach a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from net.errors import BlockedURLError, UnresolvableError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_6TO4 = ipaddress.ip_network("2002::/16")
# inet_aton accepts hex, octal and short forms ("0x7f000001", "0177.1", "2130706433").
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-Fx.]+$")


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


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, including the forms inet_aton accepts."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public(address: str | IPAddress) -> bool:
    """True only for a globally routable address, looking inside mapped and NAT64 forms."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None or ip.teredo is not None or ip.sixtofour is not None:
            return False
        if ip in _NAT64 or ip in _NAT64_LOCAL or ip in _6TO4:
            return False
        if ip.is_site_local:  # fec0::/10, deprecated but still routed inside some sites
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the operating system (getaddrinfo), off the event loop."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableError(f"cannot resolve {host!r}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _parse_allow(entries: Iterable[str]) -> tuple[tuple[ipaddress._BaseNetwork, int | None], ...]:
    out = []
    for entry in entries:
        network, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry.startswith("["):  # "[::1]:8080"
            network, _, port = entry[1:].partition("]:")
        out.append((ipaddress.ip_network(network, strict=False), int(port) if port else None))
    return tuple(out)


def _service(ip: IPAddress, port: int) -> str:
    """The allowlist entry that opens exactly this service."""
    return f"[{ip}]:{port}" if isinstance(ip, ipaddress.IPv6Address) else f"{ip}:{port}"


@dataclass(frozen=True)
class Guard:
    """Which addresses fetches and webhooks may reach. `allowlist` entries ("127.0.0.1:8080",
    "10.0.0.0/8") open single services or networks while the guard stays on. A refusal
    names the shell's settings that open it (the message is for the user)."""

    allow_private: bool = False
    allowlist: tuple[str, ...] = ()
    resolver: Resolver = system_resolver
    _allowed: tuple[tuple[ipaddress._BaseNetwork, int | None], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_allowed", _parse_allow(self.allowlist))

    def permits(self, ip: IPAddress, port: int) -> bool:
        if self.allow_private or is_public(ip):
            return True
        return any(ip in net and (p is None or p == port) for net, p in self._allowed)

    async def connect_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to dial for host:port; refuses if ANY of them is not permitted."""
        literal = literal_address(host)
        if literal is not None:
            ips = [literal]
        else:
            ips = [ipaddress.ip_address(a.split("%")[0]) for a in await self.resolver(host, port)]
            if not ips:
                raise UnresolvableError(f"{host!r} resolves to no address")
        bad = [ip for ip in ips if not self.permits(ip, port)]
        if bad:
            raise BlockedURLError(
                f"{host} resolves to a non-public address ({bad[0]}); to reach it, list "
                f"{_service(bad[0], port)} in NEWSWATCH_FETCH_ALLOWLIST, or set "
                "NEWSWATCH_ALLOW_PRIVATE_NETWORKS=true"
            )
        return [str(ip) for ip in ips]

    async def check_url(self, url: str) -> list[str]:
        """Check a URL before use; return the addresses it may be dialled at."""
        host = check_scheme(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return await self.connect_addresses(host, port)


async def check_url(
    url: str, *, allow_private: bool = False, guard: Guard | None = None
) -> list[str]:
    """Check a URL (feed or webhook) with `guard`, or a default guard; return its addresses."""
    return await (guard or Guard(allow_private=allow_private)).check_url(url)


async def check_urls(
    urls: list[str], guard: Guard, *, concurrency: int = 20, timeout_seconds: float = 10.0
) -> list[str]:
    """Check many URLs at once; for each, '' when allowed, else why not."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(url: str) -> str:
        async with semaphore:
            try:
                await asyncio.wait_for(guard.check_url(url), timeout_seconds)
            except BlockedURLError as exc:
                return str(exc)
            except TimeoutError:
                return f"could not resolve within {timeout_seconds:g} s"
            return ""

    return list(await asyncio.gather(*(one(url) for url in urls)))
