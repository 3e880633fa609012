"""A local stand-in for Meta's ThreatExchange ``/threat_updates``, as python-threatexchange's
``ThreatExchangeAPI.get_threat_updates`` reads it: ``GET /v26.0/{privacy_group}/threat_updates/`` with
``access_token`` (``APP_ID|APP_SECRET``), ``start_time``, ``limit`` and ``fields``, answering Graph API
JSON: ``data`` (``id``, ``indicator``, ``type``, ``last_updated``, ``should_delete``, ``descriptors``
with ``id``, ``owner{id}``, ``status``, ``tags``, ``reactions``) and ``paging.next``, a URL with every
parameter (the token too, as the Graph API's) and an ``after`` cursor; reactions on a descriptor
(``POST /v26.0/{descriptor_id}/`` with ``reactions``), recorded in ``reactions``. The protocol only; the HTTP
side is ``suraksha.web.exchange_sims``.

It holds only what tests put in it: made-up values, never hashes of any picture.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from suraksha.errors import InvalidInput

OWNER = 4242
"""The made-up app that owns every descriptor (an indicator's one descriptor is its id times 10)."""
REACTIONS = frozenset({"HELPFUL", "NOT_HELPFUL", "OUTDATED", "SAW_THIS_TOO", "WANT_MORE_INFO"})
"""ThreatExchange's reaction types."""


@dataclass
class SimUpdate:
    id: int
    indicator: str
    type: str
    last_updated: int
    deleted: bool
    tags: tuple[str, ...]


@dataclass
class ThreatExchangeSimulator:
    app_id: str
    app_secret: str
    privacy_group: int
    page_size: int = 100
    """The most updates a page holds, whatever ``limit`` asks (the client asks 100)."""
    updates: dict[int, SimUpdate] = field(default_factory=dict)
    reactions: list[tuple[int, str]] = field(default_factory=list)
    """(descriptor id, reaction) as the client posted them (``react``)."""
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authorised(self, token: str | None) -> bool:
        return token == f"{self.app_id}|{self.app_secret}"

    def upsert(self, rows: Sequence[Mapping[str, Any]], *, now: int | None = None) -> int:
        """Add, change or delete (``should_delete: true``) indicators by ``id``: ``indicator``,
        ``type`` (HASH_PDQ, HASH_VIDEO_MD5, ...), ``tags``, ``last_updated`` (default now)."""
        stamp = now or int(time.time())
        with self._lock:
            for row in rows:
                self.updates[int(row["id"])] = SimUpdate(
                    int(row["id"]),
                    str(row["indicator"]),
                    str(row.get("type", "HASH_PDQ")),
                    int(row.get("last_updated") or stamp),
                    bool(row.get("should_delete")),
                    tuple(row.get("tags") or ()),
                )
        return len(rows)

    def seed(self, count: int, *, seed: int = 1) -> None:
        """``count`` synthetic HASH_PDQ indicators: random bits, no picture's hash."""
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
        self.upsert([{"id": n + 1, "indicator": f"{rng.getrandbits(256):064x}"} for n in range(count)])

    def page(self, group: int, params: Mapping[str, str], url: str) -> dict[str, Any]:
        if group != self.privacy_group:
            raise LookupError(group)
        try:
            start = int(params.get("start_time") or 0)
            limit = min(int(params.get("limit") or self.page_size), self.page_size)
            after = int(params.get("after") or 0)
        except ValueError:
            raise InvalidInput("start_time, limit and after are integers") from None
        with self._lock:
            self.requests += 1
            rows = sorted(
                (u for u in self.updates.values() if u.last_updated >= start),
                key=lambda u: (u.last_updated, u.id),
            )
        page = rows[after : after + limit]
        answer: dict[str, Any] = {"data": [self._json(u) for u in page]}
        if after + limit < len(rows):
            query = {k: v for k, v in params.items() if k != "after"} | {"after": str(after + limit)}
            answer["paging"] = {"next": f"{url}?{urlencode(query)}"}
        return answer

    def react(self, descriptor_id: int, reaction: str) -> bool:
        """A reaction on a descriptor (``POST /{descriptor_id}/?reactions=...``, as the client's
        ``react_to_threat_descriptor`` sends it); False when no live indicator has that descriptor.
        InvalidInput for a reaction ThreatExchange does not have."""
        if reaction not in REACTIONS:
            raise InvalidInput(f"(#100) reactions must be one of {', '.join(sorted(REACTIONS))}")
        with self._lock:
            update = self.updates.get(descriptor_id // 10) if descriptor_id % 10 == 0 else None
            if update is None or update.deleted:
                return False
            self.reactions.append((descriptor_id, reaction))
        return True

    @staticmethod
    def _json(update: SimUpdate) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(update.id),
            "indicator": update.indicator,
            "type": update.type,
            "last_updated": update.last_updated,
            "should_delete": update.deleted,
        }
        if not update.deleted:
            body["descriptors"] = {
                "data": [
                    {
                        "id": str(update.id * 10),
                        "owner": {"id": str(OWNER)},
                        "status": "MALICIOUS",
                        "tags": list(update.tags),
                        "reactions": [],
                    }
                ]
            }
        return body
