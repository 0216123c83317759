"""A forward proxy on 127.0.0.1 for libraries that open their own connections (Apprise,
through `requests`): each destination is resolved and checked by the `Guard` at connect
time, and the proxy dials the address it checked, so that a DNS answer that changes after
a check (rebinding) cannot reach a private address. The same pinning as `net.transport`.

https goes through `CONNECT` tunnels, so TLS and its hostname check stay end to end.
Plain http arrives in absolute form ("POST http://host/path"): one request per
connection, forwarded with `Connection: close` both ways. Only clients that know the
random password may use the proxy. It never logs a request line (paths hold tokens)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog

from net.children import exit_with_parent
from net.errors import BlockedURLError, UnresolvableError
from net.guard import Guard

log = structlog.get_logger(__name__)

MAX_HEAD = 16_384
Connect = Callable[[str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
_HOP = {b"connection", b"proxy-connection", b"proxy-authorization", b"keep-alive"}


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


class EgressProxy:
    """Start with `start()`; `url` (with its password) is the proxy setting for clients."""

    def __init__(
        self,
        guard: Guard,
        *,
        timeout_seconds: float = 20.0,
        max_connections: int = 64,
        connect: Connect = _open,
    ) -> None:
        self.guard = guard
        self.timeout = timeout_seconds
        self._connect = connect
        self._slots = asyncio.Semaphore(max_connections)
        self._password = secrets.token_urlsafe(24)
        self._auth = b"Basic " + base64.b64encode(f"newswatch:{self._password}".encode())
        self._server: asyncio.Server | None = None
        self.refused = 0  # connections the guard refused (for tests and metrics)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://newswatch:{self._password}@127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=MAX_HEAD)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with self._slots:
                await asyncio.wait_for(self._serve(reader, writer), self.timeout * 3)
        except Exception:
            pass  # the client sees the connection close; it reports the failure
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return await _reply(writer, 400, "bad request head")
        request_line, *lines = head[:-4].split(b"\r\n")
        parts = request_line.split(b" ")
        if len(parts) != 3:
            return await _reply(writer, 400, "bad request line")
        method, target, version = parts
        headers = [line.split(b":", 1) for line in lines if b":" in line]
        given = next(
            (v.strip() for k, v in headers if k.strip().lower() == b"proxy-authorization"), b""
        )
        if not hmac.compare_digest(given, self._auth):
            return await _reply(writer, 407, "proxy authentication required")
        try:
            host, port, path = _destination(method, target.decode("ascii"))
            upstream = await self._dial(host, port)
        except (BlockedURLError, UnresolvableError) as exc:
            self.refused += 1
            log.info("egress.refused", error=str(exc)[:300])  # names the host, not the URL
            return await _reply(writer, 403, "refused by the SSRF guard")
        except ValueError:
            return await _reply(writer, 400, "bad proxy target")
        except OSError:
            return await _reply(writer, 502, "cannot connect")
        up_reader, up_writer = upstream
        try:
            if method == b"CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(_head(b"%s %s %s" % (method, path.encode(), version), lines))
            await self._pipe(reader, writer, up_reader, up_writer, plain=method != b"CONNECT")
        finally:
            up_writer.close()

    async def _dial(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to the first checked address of host:port that answers."""
        addresses = await self.guard.connect_addresses(host, port)
        error: OSError | None = None
        for address in addresses:
            try:
                return await asyncio.wait_for(self._connect(address, port), self.timeout)
            except (OSError, TimeoutError) as exc:
                error = exc if isinstance(exc, OSError) else OSError(str(exc))
        assert error is not None
        raise error

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        *,
        plain: bool,
    ) -> None:
        """Copy both ways until either side is done, or nothing moves for `timeout`.
        `plain` http: the answer's head gets `Connection: close` (one request each)."""

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while chunk := await asyncio.wait_for(src.read(65_536), self.timeout):
                dst.write(chunk)
                await dst.drain()

        async def answer() -> None:
            if plain:
                head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), self.timeout)
                status, *lines = head[:-4].split(b"\r\n")
                writer.write(_head(status, lines))
            await copy(up_reader, writer)

        tasks = [asyncio.ensure_future(copy(reader, up_writer)), asyncio.ensure_future(answer())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _head(first: bytes, lines: list[bytes]) -> bytes:
    """A message head without hop-by-hop headers, closing after one exchange."""
    kept = [line for line in lines if line.split(b":", 1)[0].strip().lower() not in _HOP]
    return b"\r\n".join([first, *kept]) + b"\r\nConnection: close\r\n\r\n"


def _destination(method: bytes, target: str) -> tuple[str, int, str]:
    """(host, port, origin-form path) of a proxied request; ValueError when unusable."""
    if method == b"CONNECT":
        host, _, port = target.rpartition(":")
        return host.strip("[]"), _port(port), ""
    parts = urlsplit(target)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("only absolute http:// targets (https goes through CONNECT)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or 80, path


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65_536:
        raise ValueError(f"bad port {port}")
    return port


async def _reply(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    body = reason.encode()
    writer.write(
        b"HTTP/1.1 %d %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
        % (status, body, len(body), body)
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()


def confine(proxy_url: str, parent: int) -> None:
    """Set up a worker process whose only way out is the egress proxy at `proxy_url`:
    `requests` and urllib take it from the standard proxy variables, and an audit hook
    (PEP 578) refuses any other connection or name lookup, whatever library tries. The
    worker leaves when its parent does (it would wait for jobs forever)."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ[name] = proxy_url
    parts = urlsplit(proxy_url)
    allowed = (parts.hostname, parts.port)

    def only_the_proxy(event: str, args: tuple[object, ...]) -> None:
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[1]
            if event != "socket.connect" and address is None:
                return  # on a connected socket
            if not (isinstance(address, tuple) and tuple(address[:2]) == allowed):
                raise PermissionError("this worker may only connect to the egress proxy")
        elif event == "socket.getaddrinfo" and args[0] not in (
            allowed[0],
            str(allowed[0]).encode(),
        ):
            raise PermissionError("this worker resolves no names: the egress proxy does")

    sys.addaudithook(only_the_proxy)
    exit_with_parent(parent)
