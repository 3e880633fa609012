"""A real server for browser tests: uvicorn on a free loopback port, in a thread of the test process,
over a platform on a temporary SQLite database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from suraksha.app import Platform
from suraksha.web.app import create_app
from suraksha.web.state import WebState


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(platform: Platform) -> Iterator[str]:
    """Serve ``platform`` until the block ends; yields the base URL (http://127.0.0.1:PORT)."""
    app = create_app(platform, start_index=False)
    state: WebState = app.state.suraksha
    state.load_index()
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, loop="asyncio", log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
