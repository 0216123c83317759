"""Content-Encoding decoding as a stream, never producing more than a byte budget. Pure.

httpx would decode a whole network chunk at once, so a small gzip bomb chunk could
expand to gigabytes before any size check; these decoders stop at the budget instead.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

import brotli

from net.errors import FetchError, TooLargeError

GZIP_MAGIC = b"\x1f\x8b"


# Output is produced in pieces this big, so memory stays near the budget: zlib and brotli
# both build one large output at twice its size when asked for it in one call.
PIECE = 64 * 1024


class _Zlib:
    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits
        self._d: zlib._Decompress | None = None if wbits is None else zlib.decompressobj(wbits)
        self._done = False

    def process(self, data: bytes) -> Iterator[bytes]:
        if self._d is None:
            # "deflate" should be zlib-wrapped, but many servers send raw deflate.
            zlib_header = (
                len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._d = zlib.decompressobj(15 if zlib_header else -15)
        while not self._done:
            if self._d.eof:
                data = self._d.unused_data + data
                if not data or not self._next_member(data):
                    return
            piece = self._d.decompress(data, PIECE)
            data = self._d.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < PIECE and not self._d.eof:
                return

    def _next_member(self, rest: bytes) -> bool:
        """A gzip body may hold several members, one after another (RFC 1952): start the
        next one. Anything else after the end (zero padding, say) is ignored."""
        if self._wbits != 16 + zlib.MAX_WBITS or not GZIP_MAGIC.startswith(rest[:2]):
            self._done = True
            return False
        self._d = zlib.decompressobj(self._wbits)
        return True


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def process(self, data: bytes) -> Iterator[bytes]:
        if self._d.is_finished():
            return
        piece = self._d.process(data, output_buffer_limit=PIECE)
        while piece:
            yield piece
            if self._d.can_accept_more_data():
                return
            piece = self._d.process(b"", output_buffer_limit=PIECE)


class _Identity:
    def process(self, data: bytes) -> Iterator[bytes]:
        yield data


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

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of one network chunk, lazily, so a bomb stops at the budget."""
        pieces: Iterable[bytes] = (data,)
        for stage in self._stages:
            pieces = _through(stage, pieces)
        try:
            for piece in pieces:
                self.size += len(piece)
                if self.size > self.max_bytes:
                    raise TooLargeError(
                        f"body exceeds the {self.max_bytes}-byte limit once decoded"
                    )
                yield piece
        except (zlib.error, brotli.error) as exc:
            raise FetchError(f"cannot decode the body: {exc}") from None


def _through(stage: _Zlib | _Brotli | _Identity, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from stage.process(piece)


def decode_all(chunks: Iterable[bytes], content_encoding: str, max_bytes: int) -> bytes:
    """Decode a whole body held in memory, under the same budget."""
    decoder = StreamDecoder(content_encoding, max_bytes)
    out = bytearray()
    for chunk in chunks:
        for piece in decoder.feed(chunk):
            out += piece
    return bytes(out)
