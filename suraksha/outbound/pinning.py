"""Connect only to addresses that were checked, and never past a deadline.

Checking a name's addresses and then letting the HTTP client resolve the name again is a race: a hostile
DNS server answers the check with a public address and the connection with ``127.0.0.1`` (DNS
rebinding). So the check's answer is *pinned*: httpcore's network backend is replaced by one that looks
the host up in the pins and connects to the checked address itself. The request keeps its URL, so the
``Host`` header, TLS SNI and certificate verification all use the original host name.

The same backend enforces one overall deadline: every connect, TLS handshake, read and write gets at
most the time left, so a server that drips a byte a second cannot hold a fetch past its deadline.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol

import httpcore
import httpx

from suraksha.outbound.addresses import IPAddress


class Resolver(Protocol):
    """Looks up the addresses of ``host``. Raises OSError when the name does not resolve and
    TimeoutError past ``timeout_s``. Tests inject their own to point names anywhere."""

    def __call__(self, host: str, port: int, timeout_s: float) -> Sequence[str]: ...


# getaddrinfo has no timeout of its own; it runs here so a caller can stop waiting for it. A stuck
# lookup keeps its thread until the C library gives up (its own timeouts, seconds).
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="suraksha-dns")


def system_resolver(host: str, port: int, timeout_s: float) -> Sequence[str]:
    """The operating system's resolver (hosts file, DNS), bounded in time."""
    future = _LOOKUPS.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout_s, 0.0))
    except FutureTimeout:
        future.cancel()
        raise TimeoutError(f"resolving {host!r} took longer than {timeout_s:.1f}s") from None
    found: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        found.setdefault(str(sockaddr[0]), None)
    return tuple(found)


def _time_left(deadline: float, timeout: float | None, error: type[Exception]) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the overall deadline has passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation is cut short at the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(self._deadline, timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects a host name to the addresses pinned for it, in order, and to nothing else.

    A host with no pin is refused: the client never falls back to resolving a name on its own.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        """``time.monotonic()`` past which every connect, read and write fails."""
        self._pins: dict[str, tuple[IPAddress, ...]] = {}
        self._system = httpcore.SyncBackend()
        self.connected: dict[str, str] = {}
        """The address each host was last connected to: evidence of which machine served a file."""

    def pin(self, host: str, addresses: Sequence[IPAddress]) -> None:
        self._pins[host] = tuple(addresses)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pins.get(host)
        if not addresses:
            raise httpcore.ConnectError(f"no checked address for {host!r}: refusing to resolve it here")
        failure: Exception = httpcore.ConnectError(f"could not connect to {host!r}")
        for address in addresses:
            left = _time_left(self.deadline, timeout, httpcore.ConnectTimeout)
            try:
                stream = self._system.connect_tcp(
                    str(address), port, left, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            self.connected[host] = str(address)
            return DeadlineStream(stream, self.deadline)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never reached by outbound requests")


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (request and response handling, error mapping) over a ``PinnedBackend``.

    httpx has no public parameter for httpcore's network backend, so the connection pool it builds is
    replaced by one built the same way with ours. If a future httpx stops keeping its pool in ``_pool``
    this fails at construction, loudly, rather than quietly connecting wherever DNS says.
    """

    def __init__(self, backend: PinnedBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("this httpx keeps its connection pool elsewhere: address pinning cannot work")
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=4,
            max_keepalive_connections=2,
            network_backend=backend,
        )
