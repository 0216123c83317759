"""An httpx transport that dials only addresses the guard checked, and caps requests per host."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

from monitor.errors import BlockedURLError
from monitor.guard import Guard


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
    """A network stream that finds its socket once. httpcore asks every idle pooled
    connection whether its socket is readable (closed by the server) each time it assigns
    a request; through anyio each answer rebuilds a dict of socket attributes."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
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


class GuardedTransport(httpx.AsyncHTTPTransport):
    """`AsyncHTTPTransport` with the guard at dial time and at most `per_host` requests
    in flight to one host (held until the response body is closed)."""

    def __init__(self, guard: Guard, *, per_host: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # httpx exposes no hook for the network backend; its pool reads this attribute
        # each time it opens a connection.
        self._pool._network_backend = GuardedBackend(guard)
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
