"""A raw-socket HTTP server on 127.0.0.1 whose handler may misbehave in any way, with TLS
optional (a throwaway self-signed certificate made by the openssl command)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

RawHandler = Callable[[socket.socket, str], None]


def read_head(conn: socket.socket) -> str:
    """The request line and headers (tests send no bodies)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


class RawServer:
    """Accepts connections and hands each request to `handler(conn, path)`; every request
    is counted in `hits`. Each connection serves one request, then closes."""

    def __init__(self, handler: RawHandler, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.hits: list[str] = []
        self._tls = tls
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def url(self, path: str = "/") -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            head = read_head(conn)
            path = head.split(" ", 2)[1] if head.count(" ") >= 2 else "/"
            self.hits.append(path)
            self.handler(conn, path)
        except (OSError, ssl.SSLError):
            pass  # the client hung up: exactly what several tests provoke
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def send_head(conn: socket.socket, status: str, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    conn.sendall("\r\n".join(lines).encode("latin-1"))


def reply(conn: socket.socket, body: bytes, status: str = "200 OK", **headers: str) -> None:
    """A well-formed answer (extra headers given with underscores for dashes)."""
    fields = {"Content-Length": str(len(body)), "Connection": "close"}
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    send_head(conn, status, fields)
    conn.sendall(body)


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext] | None:
    """(server context, client context trusting it) for 127.0.0.1, or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client
