"""The egress proxy: it tunnels and forwards only to addresses the guard allows, only for
clients with its password; a confined worker can reach nothing but the proxy."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import socket
import ssl
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from net.egress import EgressProxy, confine
from net.guard import Guard
from newswatch.loopback import LoopbackServer, Reply


async def _exchange(proxy: EgressProxy, head: bytes, then: bytes = b"") -> bytes:
    """Send `head` to the proxy (then `then`, once it answered) and read all it returns."""
    port = urlsplit(proxy.url).port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        if then:
            established = await reader.readuntil(b"\r\n\r\n")
            if not established.startswith(b"HTTP/1.1 200"):
                return established + await reader.read()
            writer.write(then)
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()


def _auth(proxy: EgressProxy) -> bytes:
    import base64

    parts = urlsplit(proxy.url)
    token = base64.b64encode(f"{parts.username}:{parts.password}".encode())
    return b"Proxy-Authorization: Basic " + token + b"\r\n"


@pytest.mark.parametrize(
    ("allow_private", "with_password", "connect", "expected"),
    [
        (True, True, False, b"HTTP/1.1 200"),
        (True, True, True, b"HTTP/1.1 200"),
        (False, True, False, b"HTTP/1.1 403"),
        (False, True, True, b"HTTP/1.1 403"),
        (True, False, False, b"HTTP/1.1 407"),
        (True, False, True, b"HTTP/1.1 407"),
    ],
)
def test_forwards_and_tunnels_only_what_the_guard_allows(
    allow_private: bool, with_password: bool, connect: bool, expected: bytes
) -> None:
    """Forwarding (absolute-form http) and CONNECT reach a loopback server only when the
    guard permits loopback and the client gives the proxy's password."""
    with LoopbackServer(lambda request: Reply(200, b"hello")) as server:
        target = f"127.0.0.1:{server.port}".encode()

        async def main() -> tuple[bytes, int]:
            proxy = EgressProxy(Guard(allow_private=allow_private), timeout_seconds=5)
            await proxy.start()
            try:
                auth = _auth(proxy) if with_password else b""
                request = b"GET /x HTTP/1.0\r\nHost: " + target + b"\r\n\r\n"
                if connect:
                    head = b"CONNECT " + target + b" HTTP/1.1\r\n" + auth + b"\r\n"
                    return await _exchange(proxy, head, request), proxy.refused
                head = b"GET http://" + target + b"/x HTTP/1.0\r\n" + auth + b"\r\n"
                return await _exchange(proxy, head), proxy.refused
            finally:
                await proxy.aclose()

        answer, refused = asyncio.run(main())
        reached = len(server.requests)
    assert answer.startswith(expected), answer[:80]
    assert reached == (1 if expected.endswith(b"200") else 0)
    assert refused == (1 if b"403" in expected else 0)
    if b"200" in expected:
        assert answer.endswith(b"hello")


def _connect_directly(port: int) -> str:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        return type(exc).__name__
    return "connected"


def test_a_confined_worker_reaches_only_the_proxy() -> None:
    """A worker set up by `confine` cannot open a connection of its own elsewhere."""
    with LoopbackServer(lambda request: Reply(200)) as server:
        with ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=confine,
            initargs=("http://u:p@127.0.0.1:9", os.getpid()),
        ) as pool:
            assert pool.submit(_connect_directly, server.port).result(60) == "PermissionError"
        assert server.requests == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_tunnels_keep_tls_and_its_name_check_end_to_end(tmp_path: Path) -> None:
    """`requests` through the proxy (CONNECT) reaches an https server by name, at the
    address the guard checked; the certificate is still checked against that name."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=tls.test"),
            *("-addext", "subjectAltName=DNS:tls.test"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    looked_up: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    with LoopbackServer(lambda request: Reply(200, b"ok"), tls=context) as server:

        async def main() -> list[object]:
            proxy = EgressProxy(Guard(allow_private=True, resolver=resolver), timeout_seconds=5)
            await proxy.start()

            def post(host: str) -> object:
                try:
                    answer = requests.post(
                        f"https://{host}:{server.port}/x",
                        data=b"hello",
                        proxies={"https": proxy.url},
                        verify=str(cert),
                        timeout=5,
                    )
                except requests.exceptions.SSLError:
                    return "SSLError"
                return answer.status_code

            try:
                return [await asyncio.to_thread(post, h) for h in ("tls.test", "other.test")]
            finally:
                await proxy.aclose()

        assert asyncio.run(main()) == [200, "SSLError"]
        assert [r.body for r in server.requests] == [b"hello"]
    assert looked_up == ["tls.test", "other.test"]
