"""A local stand-in for Tech Against Terrorism's hash list API, as python-threatexchange's
``TATHashListAPI`` speaks it: ``POST /token-auth/tcap/`` (form ``username``, ``password``) answering
``{"token"}``, and ``GET /api/hash-list/v2/all?order=asc&after=TIMESTAMP,ID`` with the bearer token,
answering a page (``count``, ``next``, ``previous``, ``checkpoint``, ``results`` with ``hash_digest``,
``algorithm``, ``ideology``, ``file_type``, ``deleted``, ``updated_on``, ``created_on``, ``id``), paged
by ``limit``/``offset`` in the ``next`` URL. The protocol only; the HTTP side is
``suraksha.web.exchange_sims``.

It holds only what tests put in it: made-up values, never hashes of any picture.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from suraksha.errors import InvalidInput


@dataclass
class SimListed:
    id: int
    digest: str
    algorithm: str
    file_type: str
    updated_on: float
    deleted: bool = False


@dataclass
class TATSimulator:
    username: str
    password: str
    page_size: int = 100
    listed: dict[int, SimListed] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    sign_ins: int = 0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sign_in(self, username: str, password: str) -> str | None:
        if (username, password) != (self.username, self.password):
            return None
        token = secrets.token_urlsafe(16)
        with self._lock:
            self.sign_ins += 1
            self.tokens.add(token)
        return token

    def upsert(self, rows: Sequence[Mapping[str, Any]], *, now: float | None = None) -> int:
        """Add, change or delete (``deleted: true``) records by ``id``: ``hash_digest``, ``algorithm``
        (PDQ or MD5), ``file_type`` (jpg, mp4, ...), ``updated_on`` (default: now; later each row)."""
        stamp = now or time.time()
        with self._lock:
            for n, row in enumerate(rows):
                algorithm = str(row.get("algorithm", "PDQ"))
                if algorithm not in ("PDQ", "MD5"):
                    raise InvalidInput("algorithm must be PDQ or MD5")
                self.listed[int(row["id"])] = SimListed(
                    int(row["id"]),
                    str(row["hash_digest"]),
                    algorithm,
                    str(row.get("file_type", "jpg" if algorithm == "PDQ" else "mp4")),
                    float(row.get("updated_on") or stamp + n / 1000),
                    bool(row.get("deleted")),
                )
        return len(rows)

    def seed(self, count: int, *, seed: int = 1) -> None:
        """``count`` synthetic PDQ records: random bits, no picture's hash."""
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
        self.upsert([{"id": n + 1, "hash_digest": f"{rng.getrandbits(256):064x}"} for n in range(count)])

    def page(self, params: Mapping[str, str], base_url: str) -> dict[str, Any]:
        """Records after ``after`` (``updated_on,id``), oldest first, ``limit`` from ``offset``."""
        after = params.get("after") or ""
        try:
            ts_text, _, id_text = after.partition(",")
            after_key = (float(ts_text), int(id_text or 0)) if after else (float("-inf"), 0)
            offset = int(params.get("offset") or 0)
            limit = int(params.get("limit") or self.page_size)
        except ValueError:
            raise InvalidInput("after is TIMESTAMP,ID; offset and limit are integers") from None
        with self._lock:
            self.requests += 1
            rows = sorted(
                (r for r in self.listed.values() if (r.updated_on, r.id) > after_key),
                key=lambda r: (r.updated_on, r.id),
            )
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return {
            "count": len(rows),
            "next": f"{base_url}api/hash-list/v2/all?limit={limit}&offset={offset + limit}" if more else None,
            "previous": None,
            "checkpoint": f"{page[-1].updated_on},{page[-1].id}" if page else after,
            "results": [
                {
                    "hash_digest": r.digest,
                    "algorithm": r.algorithm,
                    "ideology": "far-right",
                    "file_type": r.file_type,
                    "deleted": r.deleted,
                    "updated_on": r.updated_on,
                    "created_on": datetime.fromtimestamp(r.updated_on, UTC).isoformat(),
                    "id": r.id,
                }
                for r in page
            ],
        }
