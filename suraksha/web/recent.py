"""Answers a web process may reuse for a short, configured time (``web_auth_cache_s``): a successful
API-key check and the read_only kill switch. Each is a database read that every write request made;
reused for a second, they cost one read per second instead of one per request.

What that means for security, on purpose and documented (docs/api.md): a key revoked, or the
read_only switch turned on, takes effect in every web process within ``web_auth_cache_s`` seconds,
not at once. Failed checks are never kept: a bad or new key is read every time. 0 turns it off.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most ``max_entries`` values, each answered for ``ttl_s`` seconds after it was put (by the
    monotonic clock); thread-safe. Full: emptied, so a flood of distinct keys cannot grow it."""

    def __init__(self, ttl_s: float, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._values: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        if self.ttl_s <= 0:
            return None
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._values[key]
                return None
            return found[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.clear()
            self._values[key] = (time.monotonic() + self.ttl_s, value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
