"""Fetch a media URL the host platform gave us: bounded in size and time, and never into our network.

Every hop (the first request and each redirect, followed here rather than by httpx) is parsed and
checked (``targets``), its host resolved and every address checked (``addresses``), and the connection
made to the checked address (``pinning``). The answer is typed: the bytes, or a ``FetchFailure`` whose
reason the pipeline records as "not checked". A failure is never a clean result.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from suraksha.errors import ConfigError
from suraksha.media.limits import DEFAULT_LIMITS
from suraksha.outbound.addresses import AddressPolicy
from suraksha.outbound.pinning import PinnedBackend, PinnedTransport, Resolver, system_resolver
from suraksha.outbound.targets import (
    SSRF_REFUSALS,
    HostAllowList,
    TargetPolicy,
    TargetRefused,
    loggable_url,
    parse_ports,
    parse_target,
    resolve_target,
)
from suraksha.settings import Settings

log = logging.getLogger(__name__)


class FetchFailureReason(StrEnum):
    BLOCKED_ADDRESS = "blocked_address"
    BLOCKED_SCHEME = "blocked_scheme"
    BLOCKED_PORT = "blocked_port"
    NOT_ALLOWED_HOST = "not_allowed_host"
    TOO_LARGE = "too_large"
    TIMED_OUT = "timed_out"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    HTTP_ERROR = "http_error"
    DNS_FAILURE = "dns_failure"
    CONNECTION_FAILED = "connection_failed"  # also TLS verification and HTTP protocol errors
    INVALID_URL = "invalid_url"
    UNSUPPORTED_ENCODING = "unsupported_encoding"  # a compressed body could be a decompression bomb


@dataclass(frozen=True)
class FetchedMedia:
    content: bytes
    url: str
    final_url: str
    content_type: str | None
    address: str
    """The IP address that served the final response (evidence of where the file came from)."""
    redirects: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchFailure:
    """The media was not fetched: the item is "not checked", never clean."""

    reason: FetchFailureReason
    url: str
    detail: str
    status: int | None = None
    """The HTTP status, for ``http_error``."""
    address: str | None = None
    """The refused address, for ``blocked_address``."""


FetchOutcome = FetchedMedia | FetchFailure

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = DEFAULT_LIMITS.max_bytes
    timeout_s: float = 30.0
    """Overall deadline: name lookups, connects, TLS, every redirect and the body together."""
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 15.0
    """Longest silence between two reads (the deadline still caps the whole fetch)."""
    max_redirects: int = 5
    allowed_ports: frozenset[int] = frozenset({80, 443})
    allowed_hosts: HostAllowList = field(default_factory=HostAllowList)
    user_agent: str = "Suraksha-MediaFetch/0.1"

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        try:
            hosts = HostAllowList.parse(settings.fetch_allowed_hosts)
            ports = parse_ports(settings.fetch_allowed_ports)
        except ValueError as exc:
            raise ConfigError(f"fetch settings: {exc}") from None
        return cls(
            max_bytes=settings.fetch_max_bytes,
            timeout_s=settings.fetch_timeout_s,
            max_redirects=settings.fetch_max_redirects,
            allowed_ports=ports,
            allowed_hosts=hosts,
            user_agent=settings.fetch_user_agent,
        )


class MediaFetcher:
    """Fetches media URLs under one policy; safe to share between threads (each fetch has its own
    connection pool and address pins).

    ``allow_loopback_ports_for_testing`` lets tests and the local demo fetch from their own server on
    loopback, on those ports only (so a redirect to another loopback port is still refused). It is a
    constructor argument only, never a setting, so production cannot be switched to it by accident.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        allow_loopback_ports_for_testing: Collection[int] = (),
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._resolver = resolver
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._targets = TargetPolicy(
            allowed_ports=self.policy.allowed_ports,
            allowed_hosts=self.policy.allowed_hosts,
            addresses=AddressPolicy(loopback_ports_for_testing=frozenset(allow_loopback_ports_for_testing)),
        )

    def fetch(self, url: str) -> FetchOutcome:
        started = time.monotonic()
        backend = PinnedBackend(deadline=started + self.policy.timeout_s)
        # The transport is used without httpx.Client: redirects are ours to follow (each hop checked),
        # and nothing is taken from the environment (proxies, .netrc) or carried between hops (cookies).
        with PinnedTransport(backend, self._ssl_context) as transport:
            outcome = self._follow(transport, backend, url)
        self._log(outcome, time.monotonic() - started)
        return outcome

    def _follow(self, transport: httpx.BaseTransport, backend: PinnedBackend, url: str) -> FetchOutcome:
        current: str | httpx.URL = url
        redirects: list[str] = []
        timeout = httpx.Timeout(self.policy.read_timeout_s, connect=self.policy.connect_timeout_s)
        headers = {
            "User-Agent": self.policy.user_agent,
            "Accept": "*/*",
            # Raw bytes only: a gzip body could inflate a thousandfold before any limit is checked.
            "Accept-Encoding": "identity",
        }
        try:
            for _hop in range(self.policy.max_redirects + 1):
                target = parse_target(current, self._targets)
                backend.pin(
                    target.host, resolve_target(target, self._targets, self._resolver, backend.deadline)
                )
                request = httpx.Request(
                    "GET", target.url, headers=headers, extensions={"timeout": timeout.as_dict()}
                )
                response = transport.handle_request(request)
                try:
                    location = response.headers.get("Location")
                    if response.status_code in _REDIRECTS and location:
                        current = _join(target.url, location)
                        redirects.append(str(current))
                        continue
                    address = backend.connected.get(target.host, "")
                    return self._read(response, url, str(target.url), address, redirects)
                finally:
                    response.close()
            return FetchFailure(
                FetchFailureReason.TOO_MANY_REDIRECTS,
                url,
                f"more than {self.policy.max_redirects} redirects",
            )
        except TargetRefused as refused:
            return FetchFailure(
                FetchFailureReason(refused.reason.value),
                url,
                f"{loggable_url(current)}: {refused.detail}",
                address=refused.address,
            )
        except httpx.TimeoutException as exc:
            return FetchFailure(FetchFailureReason.TIMED_OUT, url, f"{type(exc).__name__}: {exc}")
        except httpx.HTTPError as exc:
            return FetchFailure(FetchFailureReason.CONNECTION_FAILED, url, f"{type(exc).__name__}: {exc}")

    def _read(
        self, response: httpx.Response, url: str, final_url: str, address: str, redirects: Iterable[str]
    ) -> FetchOutcome:
        if not response.is_success:
            return FetchFailure(
                FetchFailureReason.HTTP_ERROR,
                url,
                f"HTTP {response.status_code}",
                status=response.status_code,
            )
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in {"", "identity"}:
            return FetchFailure(
                FetchFailureReason.UNSUPPORTED_ENCODING, url, f"Content-Encoding {encoding[:40]!r}"
            )
        limit = self.policy.max_bytes
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return FetchFailure(
                FetchFailureReason.TOO_LARGE, url, f"Content-Length {declared} is over {limit} bytes"
            )
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > limit:
                return FetchFailure(FetchFailureReason.TOO_LARGE, url, f"body is over {limit} bytes")
            chunks.append(chunk)
        content_type = response.headers.get("Content-Type")
        return FetchedMedia(
            content=b"".join(chunks),
            url=url,
            final_url=final_url,
            content_type=content_type[:200] if content_type else None,
            address=address,
            redirects=tuple(redirects),
        )

    @staticmethod
    def _log(outcome: FetchOutcome, elapsed: float) -> None:
        if isinstance(outcome, FetchedMedia):
            log.info(
                "event=fetch.done url=%s bytes=%d redirects=%d address=%s elapsed_s=%.3f",
                loggable_url(outcome.final_url),
                len(outcome.content),
                len(outcome.redirects),
                outcome.address,
                elapsed,
            )
        elif outcome.reason.value in SSRF_REFUSALS:
            log.warning(
                "event=fetch.blocked url=%s reason=%s address=%s detail=%r",
                loggable_url(outcome.url),
                outcome.reason.value,
                outcome.address or "-",
                outcome.detail[:300],
            )
        else:
            log.info(
                "event=fetch.failed url=%s reason=%s status=%s elapsed_s=%.3f",
                loggable_url(outcome.url),
                outcome.reason.value,
                outcome.status or "-",
                elapsed,
            )


def _join(base: httpx.URL, location: str) -> httpx.URL | str:
    """The redirect target; an unparseable Location is handed on as text for ``parse_target`` to refuse."""
    try:
        return base.join(location[:4097])
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return location
