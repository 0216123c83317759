"""The guarded transport's streams send a request in one write: headers and body together
(one system call and one TCP segment for a webhook), a large body in bounded pieces, and
all bytes in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore
import pytest

from net.guard import Guard
from net.transport import GuardedBackend

ANSWER = b"HTTP/1.1 204 No Content\r\n\r\n"


class RecordingStream(httpcore.AsyncNetworkStream):
    """A network stream that records each write and answers every request with a 204."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.answers = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self.answers < len(self.writes):  # one answer per request written
            self.answers = len(self.writes)
            return ANSWER
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.writes.append(buffer)

    async def aclose(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


class RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.stream = RecordingStream()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return self.stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _post(body: bytes | AsyncIterator[bytes], length: int | None = None) -> list[bytes]:
    inner = RecordingBackend()
    backend = GuardedBackend(Guard(allow_private=True), inner=inner)
    async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
        response = await pool.request(
            "POST",
            "http://127.0.0.1:9/hook",
            headers=[("content-type", "application/json")]
            + ([("content-length", str(length))] if length is not None else []),
            content=body,
        )
        assert response.status == 204
    return inner.stream.writes


@pytest.mark.parametrize("size", [0, 1, 2_000])
def test_a_small_request_is_one_write(size: int) -> None:
    """Headers and a small body leave in one write."""
    body = b"x" * size
    [write] = asyncio.run(_post(body))
    assert write.startswith(b"POST /hook HTTP/1.1\r\n")
    assert write.endswith(b"\r\n\r\n" + body)


def test_a_large_streamed_body_goes_out_in_bounded_writes_in_order() -> None:
    """A streamed body is not held whole: it leaves in bounded pieces, every byte in order."""
    piece = bytes(range(256)) * 64  # 16 KiB

    async def body() -> AsyncIterator[bytes]:
        for _ in range(16):  # 256 KiB
            yield piece

    writes = asyncio.run(_post(body(), length=16 * len(piece)))
    assert len(writes) > 1
    assert all(len(w) < 64 * 1024 + len(piece) + 1024 for w in writes)
    assert b"".join(writes).endswith(b"\r\n\r\n" + piece * 16)
