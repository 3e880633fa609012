"""``suraksha serve`` as it runs in production (a real process, a real socket): a client that sends
its headers slowly, or nothing, or idles on a kept-alive connection, is cut off in the configured time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HEADER_TIMEOUT_S = 1.5
KEEP_ALIVE_S = 1
SLACK_S = 1.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    env = {
        **os.environ,
        "SURAKSHA_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "SURAKSHA_DATA_DIR": str(tmp_path / "data"),
        "SURAKSHA_WEB_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "SURAKSHA_WEB_KEEP_ALIVE_TIMEOUT_S": str(KEEP_ALIVE_S),
    }
    cli = [sys.executable, "-m", "suraksha"]
    subprocess.run(
        [*cli, "apikey", "create", "probe", "--role", "read"], env=env, check=True, capture_output=True
    )
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    if conn.recv(100).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start: {server.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def held_for(conn: socket.socket, drip: bytes = b"", every_s: float = 0.2, limit_s: float = 20.0) -> float:
    """Send ``drip`` a byte at a time (then nothing) until the server closes the connection; how long
    it stayed open."""
    started = time.monotonic()
    conn.settimeout(every_s)
    sent = 0
    while time.monotonic() - started < limit_s:
        try:
            if sent < len(drip):
                conn.sendall(drip[sent : sent + 1])
                sent += 1
            if conn.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    return time.monotonic() - started


def test_a_client_sending_headers_slowly_is_cut_off(served: int) -> None:
    drip = b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: " + b"a" * 500
    with socket.create_connection(("127.0.0.1", served)) as conn:
        open_s = held_for(conn, drip)
    assert open_s < HEADER_TIMEOUT_S + SLACK_S, open_s


def test_a_client_sending_nothing_is_cut_off(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as conn:
        open_s = held_for(conn)
    assert open_s < HEADER_TIMEOUT_S + SLACK_S, open_s


def test_an_idle_kept_alive_connection_is_closed_and_a_prompt_client_is_served(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        conn.settimeout(5)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        # the second request's headers drip too: its own header deadline applies
        open_s = held_for(conn, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 500)
    assert open_s < HEADER_TIMEOUT_S + SLACK_S, open_s
    with socket.create_connection(("127.0.0.1", served)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        conn.settimeout(5)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        open_s = held_for(conn)
    assert open_s < KEEP_ALIVE_S + SLACK_S, open_s
