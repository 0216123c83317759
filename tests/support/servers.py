"""Real HTTP servers on 127.0.0.1 for tests: a feed server and a webhook receiver."""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections under a burst of concurrent clients,
    # which a client sees as a connect timeout, not as an answer.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LoopbackServer:
    """A threaded HTTP server; `handler` answers every request and all are recorded."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with outer._lock:
                    outer.requests.append(request)
                reply = outer.handler(request)
                self.send_response(reply.status)
                headers = {"content-length": str(len(reply.body)), **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_HEAD = do_PUT = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), _Handler)
        # A short poll interval makes stop() (which waits one poll) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
