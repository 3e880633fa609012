"""A real HTTP(S) server on 127.0.0.1 (random port) standing in for a host platform's media storage.

Routes (benign bytes only):
  /ok                      200, 64 bytes of image/jpeg-labelled benign data
  /headers                 200, the request's headers as JSON
  /size/N                  200, N bytes with Content-Length
  /stream/N                200, N bytes close-delimited (no Content-Length), in 64 KiB writes
  /lie-short/N             Content-Length: 10, then N bytes
  /lie-long                Content-Length: 1000, then 10 bytes and close
  /drip                    Content-Length: 1000, one byte every 0.05 s
  /stall                   headers, then nothing for 5 s
  /gzip                    Content-Encoding: gzip
  /status/N                status N
  /redirect?to=URL         302 to URL (taken verbatim: it may be hostile)
  /loop                    302 to /loop
"""

from __future__ import annotations

import gzip
import json
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

BENIGN = bytes(range(64))


class MediaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: MediaServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers.items()), self.server.sni))
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        segments = path.strip("/").split("/")
        route, arg = segments[0], (segments[1] if len(segments) > 1 else "")
        if route == "ok":
            self._send(200, BENIGN, "image/jpeg")
        elif route == "headers":
            self._send(200, json.dumps(dict(self.headers.items())).encode(), "application/json")
        elif route == "size":
            self._send(200, b"x" * int(arg), "application/octet-stream")
        elif route == "stream":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            left = int(arg)
            while left > 0:
                n = min(left, 65536)
                try:
                    self.wfile.write(b"y" * n)
                except OSError:
                    return
                left -= n
            self.close_connection = True
        elif route == "lie-short":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"z" * int(arg))
            self.close_connection = True
        elif route == "lie-long":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"z" * 10)
            self.close_connection = True
        elif route == "drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b".")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
        elif route == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            time.sleep(5)
        elif route == "gzip":
            body = gzip.compress(b"\0" * 100_000)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif route == "status":
            self._send(int(arg), b"no", "text/plain")
        elif route == "redirect":
            self._redirect(query["to"][0])
        elif route == "loop":
            self._redirect("/loop")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class MediaServer(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, dict[str, str], str | None]]
    sni: str | None = None

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up mid-body is what several tests do on purpose


@dataclass
class Served:
    port: int
    server: MediaServer

    @property
    def seen(self) -> list[tuple[str, dict[str, str], str | None]]:
        return self.server.seen

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


def _serve(tls: ssl.SSLContext | None = None) -> Iterator[Served]:
    server = MediaServer(("127.0.0.1", 0), MediaHandler)
    server.seen = []
    if tls is not None:

        def remember_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            server.sni = name

        tls.sni_callback = remember_sni  # type: ignore[assignment]
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(server.server_address[1], server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def media_server() -> Iterator[Served]:
    yield from _serve()


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_media_server(certificate_authority: trustme.CA) -> Iterator[Served]:
    """HTTPS, with a certificate for ``media.example`` only (not for 127.0.0.1)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("media.example").configure_cert(context)
    yield from _serve(context)


@pytest.fixture
def client_tls(certificate_authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context


@dataclass
class FakeDNS:
    """An injected resolver: names map to a list of answers, consumed one per lookup (the last one
    repeats), so a test can make a name change its address between lookups (DNS rebinding)."""

    answers: dict[str, list[Sequence[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int, timeout_s: float) -> Sequence[str]:
        self.lookups.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise OSError(f"[Errno -2] Name or service not known: {host!r}")
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def dns() -> FakeDNS:
    return FakeDNS()
