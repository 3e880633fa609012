"""The port that asks the platform for an item, over real HTTP: the request is signed like a webhook,
an item comes back in the POST /api/v1/items shape, 404 means "no such item", anything else is an
error the job retries. The local stand-in answers from its dictionary."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from suraksha.errors import ExternalServiceError
from suraksha.flaggers.ports import HttpPlatformItems, LocalPlatformItems
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import WebhookEndpoint

SECRET = "platform-shared-secret"
ITEM = {"platform_item_id": "post-9", "kind": "post", "account": {"platform_id": "acct-9"}, "text": "hi"}
ANSWERS = {
    "/item": (200, json.dumps(ITEM).encode()),
    "/gone": (404, b"{}"),
    "/fail": (500, b""),
    "/junk": (200, b"[1]"),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Handler.received.append((dict(self.headers.items()), body))
        status, answer = ANSWERS[self.path]
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def port_for(port: int, path: str) -> HttpPlatformItems:
    endpoint = WebhookEndpoint(f"http://127.0.0.1:{port}{path}", (SECRET,))
    return HttpPlatformItems(endpoint, allow_loopback_ports_for_testing={port})


def test_the_platform_is_asked_signed_and_answers(server: int) -> None:
    item = port_for(server, "/item").fetch("post-9", target_id=4)
    assert item is not None and item.platform_item_id == "post-9" and item.account.platform_id == "acct-9"
    headers, body = Handler.received[-1]
    verify_signature(SECRET, headers, body)
    sent = json.loads(body)
    assert sent["event"] == "item.fetch" and sent["data"] == {"item_id": "post-9", "notice_target": 4}
    assert port_for(server, "/gone").fetch("post-9", target_id=5) is None
    with pytest.raises(ExternalServiceError, match="HTTP 500"):
        port_for(server, "/fail").fetch("post-9", target_id=6)
    with pytest.raises(ExternalServiceError, match="not an item"):
        port_for(server, "/junk").fetch("post-9", target_id=7)


def test_the_local_stand_in() -> None:
    local = LocalPlatformItems({"post-9": ITEM})
    found = local.fetch("post-9", target_id=1)
    assert found is not None and found.text == "hi"
    assert local.fetch("post-10", target_id=2) is None
