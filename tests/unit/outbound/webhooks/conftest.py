"""A real HTTP server on 127.0.0.1 (random port) standing in for the host platform's webhook receiver.

It records every request (path, headers, body) and answers by path:
  /ok 200, /created 201, /fail 500, /unavailable 503 + Retry-After: 30, /busy 429 + Retry-After: 7,
  /bad 400, /gone 410, /moved 302, /slow (answers after 2 s); /done and /cannot 200 with the
  action's outcome in the body (``{"outcome": "done"}``, ``{"outcome": "failed", "reason": ...}``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ANSWERS: dict[str, tuple[int, dict[str, str]]] = {
    "/ok": (200, {}),
    "/created": (201, {}),
    "/fail": (500, {}),
    "/unavailable": (503, {"Retry-After": "30"}),
    "/busy": (429, {"Retry-After": "7"}),
    "/bad": (400, {}),
    "/gone": (410, {}),
    "/moved": (302, {"Location": "/ok"}),
    "/done": (200, {}),
    "/cannot": (200, {}),
}
BODIES: dict[str, bytes] = {
    "/done": b'{"outcome": "done"}',
    "/cannot": b'{"outcome": "failed", "reason": "the post is on a legal hold in our system"}',
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Receiver

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(Received(self.path, dict(self.headers.items()), body))
        if self.path == "/slow":
            time.sleep(2)
            status, headers = 200, {}
        else:
            status, headers = ANSWERS.get(self.path, (404, {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        answer = BODIES.get(self.path, b"{}")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(answer)


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    received: list[Received]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the slow route's client has hung up on purpose


@dataclass
class Platform:
    port: int
    server: Receiver = field(repr=False)

    @property
    def received(self) -> list[Received]:
        return self.server.received

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    server = Receiver(("127.0.0.1", 0), ReceiverHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Platform(server.server_address[1], server)
    finally:
        server.shutdown()
        server.server_close()
