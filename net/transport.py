"""An httpx transport that dials only addresses the guard checked, and caps requests per host."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpcore
import httpx
from httpcore._async.interfaces import AsyncConnectionInterface
from httpcore._utils import is_socket_readable

from net.errors import BlockedURLError
from net.guard import Guard


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks at connect time, then connects to the checked IP itself.
    TLS still verifies the hostname: httpcore takes SNI from the URL, not the socket."""

    def __init__(self, guard: Guard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.guard.connect_addresses(host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return _SocketStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedURLError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _SocketStream(httpcore.AsyncNetworkStream):
    """A network stream that finds its socket once, and sends a request in one write.

    httpcore asks every idle pooled connection whether its socket is readable (closed by
    the server) each time it assigns a request; through anyio each answer rebuilds a dict
    of socket attributes. And it writes a request's headers, its body and an empty end of
    message apart: a system call, a TCP segment and a wake-up of the receiver each. Here
    writes are held until the stream is read (every request is followed by reading its
    response) or until `flush_bytes` are held, and then go out as one."""

    flush_bytes = 64 * 1024

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._write_timeout: float | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            # As httpcore does when a write fails: a server may close its side early and
            # still answer (say, 413); reading tells.
            with contextlib.suppress(httpcore.WriteError):
                await self._flush()
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._held.append(buffer)
        self._held_bytes += len(buffer)
        self._write_timeout = timeout
        if self._held_bytes >= self.flush_bytes:
            await self._flush()

    async def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        await self._inner.write(data, self._write_timeout)

    async def aclose(self) -> None:
        self._held.clear()
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._held:
            await self._flush()
        # TLS runs over the same TCP socket, which is what readability is asked of.
        return _SocketStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return is_socket_readable(self._socket)
        if info == "socket" and self._socket is not None:
            return self._socket
        return self._inner.get_extra_info(info)


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class LeanPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, with the same rules for reuse, but without asking every pooled
    connection whether it expired each time any request starts or ends. That question
    is a system call per idle connection (is the socket readable, i.e. closed by the
    server?), so with 50 keep-alive connections it made a 304 cost a few hundred
    system calls. Here a connection is asked when it is about to be reused, and all of
    them at most once per `sweep_seconds` to close the expired ones."""

    sweep_seconds = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing: list[AsyncConnectionInterface] = []
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_seconds
            self._sweep(closing)
        # An idle connection stays "available" until the request given it starts: skip the
        # ones already given (httpcore's pool gives one to each request that arrives in the
        # meantime, and all but one of them go round again).
        taken = {id(r.connection) for r in self._requests if r.connection is not None}
        if len(self._connections) > self._max_keepalive_connections:
            idle = [c for c in self._connections if c.is_idle() and id(c) not in taken]
            for connection in idle[: max(0, len(idle) - self._max_keepalive_connections)]:
                self._connections.remove(connection)
                closing.append(connection)

        for pool_request in [r for r in self._requests if r.is_queued()]:
            origin = pool_request.request.url.origin
            reusable = self._reusable(origin, closing, taken)
            if reusable is not None:
                connection = reusable
            else:
                if len(self._connections) >= self._max_connections:
                    self._connections = [c for c in self._connections if not c.is_closed()]
                if len(self._connections) >= self._max_connections:
                    # Make room by closing an idle connection to another host, if any.
                    idle = [c for c in self._connections if c.is_idle() and id(c) not in taken]
                    if not idle:
                        continue  # stays queued until a connection frees up
                    self._connections.remove(idle[0])
                    closing.append(idle[0])
                connection = self.create_connection(origin)
                self._connections.append(connection)
            taken.add(id(connection))
            pool_request.assign_to_connection(connection)
        return closing

    def _sweep(self, closing: list[AsyncConnectionInterface]) -> None:
        """Drop closed connections, and close expired ones (idle past their keep-alive, or
        closed by the server)."""
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)

    def _reusable(
        self, origin: httpcore.Origin, closing: list[AsyncConnectionInterface], taken: set[int]
    ) -> AsyncConnectionInterface | None:
        """An available connection to `origin` not yet given to a request; expired ones
        met on the way are closed."""
        for connection in list(self._connections):
            if id(connection) in taken or not (
                connection.can_handle_request(origin) and connection.is_available()
            ):
                continue
            if connection.is_idle() and connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None


class GuardedTransport(httpx.AsyncHTTPTransport):
    """`AsyncHTTPTransport` over a `LeanPool` that dials only what the guard checked, with
    at most `per_host` requests in flight to one host (held until the body is closed)."""

    def __init__(
        self,
        guard: Guard,
        *,
        per_host: int = 4,
        limits: httpx.Limits,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        context = httpx.create_ssl_context(verify=verify)
        super().__init__(limits=limits, verify=context)
        self._pool = LeanPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard),
            retries=0,
        )
        self._per_host = per_host
        # One entry per host ever fetched: bounded by the feed catalogue.
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise BlockedURLError(f"only http and https URLs are allowed, not {request.url}")
        semaphore = self._hosts.setdefault(request.url.host, asyncio.Semaphore(self._per_host))
        await semaphore.acquire()
        try:
            response = await super().handle_async_request(request)
        except BaseException:
            semaphore.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, semaphore.release)
        return response
