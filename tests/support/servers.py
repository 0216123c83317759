"""Real HTTP servers on 127.0.0.1 for tests: a feed server and a webhook receiver."""

from __future__ import annotations

import hashlib

from newswatch.loopback import Handler, LoopbackServer, Reply, Request

__all__ = ["FeedServer", "Handler", "LoopbackServer", "Reply", "Request", "WebhookReceiver"]


class FeedServer(LoopbackServer):
    """Serves feed bodies by path, with ETags and 304s like a polite server."""

    def __init__(self) -> None:
        self.feeds: dict[str, tuple[bytes, str]] = {}
        super().__init__(self._answer)

    def set_feed(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> str:
        self.feeds[path] = (body, content_type)
        return self.url(path)

    def fetches(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _answer(self, request: Request) -> Reply:
        if request.path not in self.feeds:
            return Reply(404, b"not found")
        body, content_type = self.feeds[request.path]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"etag": etag})
        return Reply(200, body, {"content-type": content_type, "etag": etag})


class WebhookReceiver(LoopbackServer):
    """Records webhook deliveries; `status` decides the answer."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        super().__init__(lambda request: Reply(self.status, b"ok"))

    @property
    def deliveries(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]
