"""The lists upstream, behind one interface: ``ExchangeSource.pages`` yields a list's records a page at a
time, each page with the checkpoint that resumes after it. The real implementations, wrapping
python-threatexchange's clients, are in ``suraksha.exchanges.clients`` (imported only when a fetch
needs one, so the CLI and the web layer do not load them); the local stand-in for NCMEC's service is
``suraksha.exchanges.hashsharing_sim``.
"""

from __future__ import annotations

import ipaddress
import json
import typing as t
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from suraksha.errors import InvalidInput
from suraksha.signals.types import SignalKind


class FetchBudgetSpent(Exception):
    """The fetch's time budget ran out between two calls: stop; the last committed page stands."""


@dataclass(frozen=True)
class UpstreamSignal:
    signal_type: SignalKind
    value: str
    """Normalised (``suraksha.signals.types.validate_signal``)."""


@dataclass(frozen=True)
class UpstreamRecord:
    """One record of the list as upstream has it now. No signals: removed upstream (or no longer one
    we can take)."""

    key: str
    signals: tuple[UpstreamSignal, ...]
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    records: list[UpstreamRecord]
    checkpoint: dict[str, t.Any] | None
    """JSON-able; None: start from the beginning next time (a snapshot list after a complete pass)."""
    end_of_pass: bool = False
    """Snapshot lists: this page ends a complete pass, so records not seen in it are gone upstream."""
    rejected: int = 0
    """Signals upstream that are not valid hashes of a type we take (skipped, counted)."""


class ExchangeSource(t.Protocol):
    snapshot: bool
    """Each pass yields the whole list (records missing from a complete pass are removed)."""

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]: ...


def check_base_url(url: str) -> str:
    """An exchange's own base URL (the stand-in, a test environment): https, or http to loopback only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"url {url!r} must be an http(s) URL such as https://host/hashsharing")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise InvalidInput(
                f"url {url!r}: plain http is only allowed to this machine (the local stand-in)"
            )
    return url.rstrip("/")


def checkpoint_json(checkpoint: Mapping[str, t.Any] | None) -> str | None:
    return None if checkpoint is None else json.dumps(checkpoint, sort_keys=True)
