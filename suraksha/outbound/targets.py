"""Whether a URL may be requested, and the checked addresses to connect to.

Shared by media fetching (``intake.fetch``) and webhook delivery (``enforcement.webhooks``): both send
requests to URLs that someone other than us chose. Each hop of a redirect chain goes through
``parse_target`` and ``resolve_target`` again.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from suraksha.outbound.addresses import AddressPolicy, IPAddress, literal_address
from suraksha.outbound.pinning import Resolver

MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}


class Refusal(StrEnum):
    INVALID_URL = "invalid_url"
    BLOCKED_SCHEME = "blocked_scheme"
    BLOCKED_PORT = "blocked_port"
    NOT_ALLOWED_HOST = "not_allowed_host"
    BLOCKED_ADDRESS = "blocked_address"
    DNS_FAILURE = "dns_failure"
    TIMED_OUT = "timed_out"


# Refusals that mean someone pointed us at a place we must not go: logged as warnings.
SSRF_REFUSALS = frozenset(
    {Refusal.BLOCKED_SCHEME, Refusal.BLOCKED_PORT, Refusal.NOT_ALLOWED_HOST, Refusal.BLOCKED_ADDRESS}
)


class TargetRefused(Exception):
    """A URL that may not be requested; ``reason`` says why, ``address`` which address was refused."""

    def __init__(self, reason: Refusal, detail: str, *, address: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.address = address


_HOST_PATTERN = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class HostAllowList:
    """Host names that may be requested: exact names, or ``*.example.com`` for any name under
    ``example.com`` (not ``example.com`` itself). Empty allows every host whose addresses pass."""

    patterns: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | Iterable[str]) -> HostAllowList:
        """From a comma-separated setting or a list; names in ASCII (IDNA ``xn--`` form)."""
        items = raw.split(",") if isinstance(raw, str) else list(raw)
        patterns = tuple(p.strip().lower().rstrip(".") for p in items if p.strip())
        bad = [p for p in patterns if not _HOST_PATTERN.fullmatch(p) or len(p) > 253]
        if bad:
            raise ValueError(f"not host names or *.suffix patterns: {', '.join(bad)}")
        return cls(patterns)

    def allows(self, host: str) -> bool:
        if not self.patterns:
            return True
        host = host.lower().rstrip(".")
        return any(host.endswith(p[1:]) if p.startswith("*.") else host == p for p in self.patterns)


def parse_ports(raw: str | Iterable[int]) -> frozenset[int]:
    """Allowed ports from a comma-separated setting (``80,443``) or a list."""
    items = [p.strip() for p in raw.split(",") if p.strip()] if isinstance(raw, str) else list(raw)
    ports = frozenset(int(p) for p in items)
    if not ports or not all(0 < p < 65536 for p in ports):
        raise ValueError(f"ports must be 1-65535 and at least one: {raw!r}")
    return ports


@dataclass(frozen=True)
class TargetPolicy:
    """Where requests may go. ``allowed_ports`` None allows any port."""

    allowed_ports: frozenset[int] | None = frozenset({80, 443})
    allowed_hosts: HostAllowList = field(default_factory=HostAllowList)
    addresses: AddressPolicy = field(default_factory=AddressPolicy)


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    host: str
    """ASCII host as httpcore sees it (IPv6 without brackets): the key of the address pin."""
    port: int
    literal: IPAddress | None


def parse_target(raw: str | httpx.URL, policy: TargetPolicy) -> Target:
    """Parse and check everything about a URL that needs no network: scheme, credentials, port, host."""
    text = str(raw)
    if len(text) > MAX_URL_LENGTH:
        raise TargetRefused(Refusal.INVALID_URL, f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        url = raw if isinstance(raw, httpx.URL) else httpx.URL(text)
        scheme, port = url.scheme, url.port
        host = url.raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise TargetRefused(Refusal.INVALID_URL, f"not a valid URL: {exc}") from None
    if scheme not in DEFAULT_PORTS:
        raise TargetRefused(Refusal.BLOCKED_SCHEME, f"scheme {scheme!r} is not http or https")
    if url.userinfo:
        raise TargetRefused(Refusal.INVALID_URL, "credentials in URLs are refused")
    if not host:
        raise TargetRefused(Refusal.INVALID_URL, "URL has no host")
    port = port or DEFAULT_PORTS[scheme]
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        raise TargetRefused(Refusal.BLOCKED_PORT, f"port {port} is not allowed")
    try:
        literal = literal_address(host)
    except ValueError as exc:
        raise TargetRefused(Refusal.INVALID_URL, str(exc)) from None
    if literal is not None:
        _check_address(literal, port, policy.addresses)
        if isinstance(literal, ipaddress.IPv4Address) and str(literal) != host.rstrip("."):
            # Public, but spelled the way only SSRF payloads spell addresses (0x5d.0xb8.0xd8.0x22).
            raise TargetRefused(Refusal.INVALID_URL, f"write the address {literal} as dotted decimal")
    if not policy.allowed_hosts.allows(host):
        raise TargetRefused(Refusal.NOT_ALLOWED_HOST, f"host {host!r} is not on the allow-list")
    return Target(url=url, host=host, port=port, literal=literal)


def resolve_target(
    target: Target, policy: TargetPolicy, resolver: Resolver, deadline: float
) -> tuple[IPAddress, ...]:
    """The target's addresses, every one checked; refused if any one is blocked.

    One bad address refuses the whole name: a name that resolves to both a public and a private address
    is either misconfigured or an attack, and connecting to "the good one" invites the other next time.
    """
    if target.literal is not None:
        return (target.literal,)
    left = deadline - time.monotonic()
    if left <= 0:
        raise TargetRefused(Refusal.TIMED_OUT, "the overall deadline passed before name resolution")
    try:
        found = resolver(target.host, target.port, left)
    except TimeoutError as exc:
        raise TargetRefused(Refusal.TIMED_OUT, f"resolving {target.host!r}: {exc}") from None
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(Refusal.DNS_FAILURE, f"{target.host!r} does not resolve: {exc}") from None
    addresses: list[IPAddress] = []
    for raw in found:
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            raise TargetRefused(
                Refusal.DNS_FAILURE, f"resolver gave {raw!r} for {target.host!r}, not an address"
            ) from None
        _check_address(address, target.port, policy.addresses)
        addresses.append(address)
    if not addresses:
        raise TargetRefused(Refusal.DNS_FAILURE, f"{target.host!r} has no addresses")
    return tuple(addresses)


def _check_address(address: IPAddress, port: int, policy: AddressPolicy) -> None:
    block = policy.block(address, port)
    if block is not None:
        raise TargetRefused(
            Refusal.BLOCKED_ADDRESS, f"address {address} is {block.value}", address=str(address)
        )


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:/*)[^/?#@]*@")


def loggable_url(url: str | httpx.URL) -> str:
    """The URL for a log line: no query, fragment or credentials (signed media URLs carry tokens
    there), control characters escaped (no forged log lines), at most 300 characters."""
    text = re.split(r"[?#]", str(url)[: MAX_URL_LENGTH + 1], maxsplit=1)[0]
    text = _USERINFO.sub(r"\1***@", text)
    return text.encode("unicode_escape").decode("ascii")[:300]
