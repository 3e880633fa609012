"""The HTTP server's own limits, below the app: how long a client may take to send a request's
headers, and (uvicorn's ``timeout_keep_alive``) how long an idle connection stays open.

uvicorn times out an idle keep-alive connection, but nothing else: a client that connects and sends
nothing, or sends its headers a byte at a time, holds the connection (and a slot of the server's)
for as long as it likes; one kept a connection for over 20 s this way. ``HeaderTimeoutProtocol``
closes a connection whose request headers are not complete within ``header_timeout_s`` of the
connection opening, or of the request's first byte on a kept-alive connection. The deadline is not
moved by data arriving, so a slow drip of bytes does not keep it open.

It extends uvicorn's httptools protocol (``uvicorn[standard]`` is a dependency, and it is what
uvicorn picks when httptools is installed), using only the parser callbacks that protocol defines.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from suraksha.errors import ConfigError

log = logging.getLogger("suraksha.web.server")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    header_timeout_s: float = 10.0
    """Set by ``http_protocol``."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:  # an armed deadline stays where it is
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            client = self.client[0] if self.client else "-"
            log.info("event=http.header_timeout client=%s timeout_s=%s", client, self.header_timeout_s)
            self.transport.close()


def http_protocol(header_timeout_s: float) -> type[HttpToolsProtocol]:
    """The protocol class to hand uvicorn (``http=``), with this header timeout."""
    if header_timeout_s <= 0:
        raise ConfigError(f"web_header_timeout_s must be positive, not {header_timeout_s}")
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": header_timeout_s})
