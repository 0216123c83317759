"""Content-Encoding decoding as a stream, never producing more than a byte budget. Pure.

httpx would decode a whole network chunk at once, so a small gzip bomb chunk could
expand to gigabytes before any size check; these decoders stop at the budget instead.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import brotli

from monitor.errors import FetchError, TooLargeError

GZIP_MAGIC = b"\x1f\x8b"


class _Zlib:
    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits
        self._d: zlib._Decompress | None = None if wbits is None else zlib.decompressobj(wbits)

    def process(self, data: bytes, limit: int) -> bytes:
        if self._d is None:
            # "deflate" should be zlib-wrapped, but many servers send raw deflate.
            zlib_header = (
                len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._d = zlib.decompressobj(15 if zlib_header else -15)
        if self._d.eof:
            return b""
        out = bytearray(self._d.decompress(data, limit + 1))
        while len(out) <= limit and self._d.unconsumed_tail and not self._d.eof:
            out += self._d.decompress(self._d.unconsumed_tail, limit + 1 - len(out))
        return bytes(out)


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def process(self, data: bytes, limit: int) -> bytes:
        if self._d.is_finished():
            return b""
        out = bytearray(self._d.process(data, output_buffer_limit=limit + 1))
        while len(out) <= limit and not self._d.can_accept_more_data():
            more = self._d.process(b"", output_buffer_limit=limit + 1 - len(out))
            if not more:
                break
            out += more
        return bytes(out)


class _Identity:
    def process(self, data: bytes, limit: int) -> bytes:
        return data


def _decoder(name: str) -> _Zlib | _Brotli | _Identity:
    if name in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return _Zlib(None)
    if name == "br":
        return _Brotli()
    if name in ("identity", ""):
        return _Identity()
    raise FetchError(f"unsupported content-encoding {name!r}")


class StreamDecoder:
    """Decodes a body chunk by chunk; raises `TooLargeError` past `max_bytes` of output."""

    def __init__(self, content_encoding: str, max_bytes: int) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        # Encodings are listed in the order applied, so they are undone in reverse.
        self._stages = [_decoder(n) for n in reversed(names)]
        self.max_bytes = max_bytes
        self.size = 0

    def feed(self, data: bytes) -> bytes:
        budget = self.max_bytes - self.size
        try:
            for stage in self._stages:
                data = stage.process(data, budget)
                if len(data) > budget:
                    break
        except (zlib.error, brotli.error) as exc:
            raise FetchError(f"cannot decode the body: {exc}") from None
        self.size += len(data)
        if self.size > self.max_bytes:
            raise TooLargeError(f"body exceeds the {self.max_bytes}-byte limit once decoded")
        return data


def decode_all(chunks: Iterable[bytes], content_encoding: str, max_bytes: int) -> bytes:
    """Decode a whole body held in memory, under the same budget."""
    decoder = StreamDecoder(content_encoding, max_bytes)
    out = bytearray()
    for chunk in chunks:
        out += decoder.feed(chunk)
    return bytes(out)
