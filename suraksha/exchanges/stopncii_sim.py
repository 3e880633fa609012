"""A local stand-in for StopNCII.org's hash API, as python-threatexchange's ``StopNCIIAPI`` speaks it:
``GET /v1/FetchHashes?startTimestamp=&pageSize=&nextPageToken=`` answering JSON (``count``,
``nextPageToken``, ``nextSetTimestamp``, ``hasMoreRecords``, ``hashRecords`` with ``signalType``,
``hashValue``, ``hashStatus``, ``caseNumbers``, ``CSPFeedbacks``, ``lastModtimestamp``), and
``POST /v1/SubmitFeedback`` taking ``{"count", "hashFeedbacks": [{"hashValue", "feedbackValue",
"tags"}]}``; each endpoint checks its own function key (``x-functions-key``) and the subscription key
(``Ocp-Apim-Subscription-Key``). The protocol only; the HTTP side is ``suraksha.web.exchange_sims``.

It holds only what tests put in it (``upsert``): made-up values, never hashes of any picture. Nothing
sent to it reaches StopNCII.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from suraksha.errors import InvalidInput

SIGNAL_TYPES = ("ImagePDQ", "VideoMD5", "VideoTMK", "Text", "URL")
STATUSES = ("Received", "Active", "Withdrawn", "Deleted")
FEEDBACK_VALUES = ("None", "QualityUnknown", "PendingReview", "Blocked", "NotBlocked")


@dataclass
class SimHash:
    signal_type: str
    value: str
    status: str
    modified: int
    seq: int
    feedbacks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StopNCIISimulator:
    subscription_key: str
    fetch_key: str
    feedback_key: str
    page_size: int = 800
    """The most records a page holds, whatever ``pageSize`` asks (the client asks 800)."""
    hashes: dict[tuple[str, str], SimHash] = field(default_factory=dict)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    """Every feedback received, as sent (``hashValue``, ``feedbackValue``, ``tags``)."""
    requests: int = 0
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authorised(self, endpoint: str, subscription: str | None, function_key: str | None) -> bool:
        key = {"FetchHashes": self.fetch_key, "SubmitFeedback": self.feedback_key}.get(endpoint)
        return key is not None and subscription == self.subscription_key and function_key == key

    def upsert(self, rows: Sequence[Mapping[str, Any]], *, now: int | None = None) -> int:
        """Add or change hashes: ``signalType`` (default ImagePDQ), ``hashValue``, ``hashStatus``
        (default Active; Withdrawn or Deleted: the subject withdrew it), ``lastModtimestamp``."""
        stamp = now or int(time.time())
        with self._lock:
            for row in rows:
                kind, value = str(row.get("signalType", "ImagePDQ")), str(row["hashValue"])
                status = str(row.get("hashStatus", "Active"))
                if kind not in SIGNAL_TYPES or status not in STATUSES:
                    raise InvalidInput(f"{value}: unknown signalType or hashStatus")
                self._seq += 1
                old = self.hashes.get((kind, value))
                self.hashes[kind, value] = SimHash(
                    kind,
                    value,
                    status,
                    int(row.get("lastModtimestamp") or stamp),
                    self._seq,
                    old.feedbacks if old else [],
                )
        return len(rows)

    def seed(self, count: int, *, seed: int = 1) -> None:
        """``count`` synthetic ImagePDQ hashes: random bits, no picture's hash."""
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
        self.upsert([{"hashValue": f"{rng.getrandbits(256):064x}"} for _ in range(count)])

    def fetch(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Records modified at or after ``startTimestamp``, oldest first; ``nextPageToken`` is the
        offset into that list; ``nextSetTimestamp`` the modification time of the last record given."""
        try:
            start = int(params.get("startTimestamp", "0"))
            size = int(params.get("pageSize", str(self.page_size)))
            offset = int(params.get("nextPageToken") or "0")
        except ValueError:
            raise InvalidInput("startTimestamp, pageSize and nextPageToken are integers") from None
        if not 1 <= size <= 10_000 or offset < 0:
            raise InvalidInput("pageSize must be 1-10000")
        size = min(size, self.page_size)
        with self._lock:
            self.requests += 1
            rows = sorted(
                (h for h in self.hashes.values() if h.modified >= start), key=lambda h: (h.modified, h.seq)
            )
            page = rows[offset : offset + size]
            more = offset + size < len(rows)
            return {
                "count": len(page),
                "nextPageToken": str(offset + size) if more else None,
                "nextSetTimestamp": page[-1].modified if page else start,
                "hasMoreRecords": more,
                "hashRecords": [
                    {
                        "lastModtimestamp": h.modified,
                        "signalType": h.signal_type,
                        "hashValue": h.value,
                        "hashStatus": h.status,
                        "caseNumbers": {f"case-{h.seq}": h.status},
                        "CSPFeedbacks": list(h.feedbacks),
                    }
                    for h in page
                ],
            }

    def submit_feedback(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("hashFeedbacks"), list):
            raise InvalidInput('send {"count": N, "hashFeedbacks": [...]}')
        items = body["hashFeedbacks"]
        if body.get("count") != len(items):
            raise InvalidInput("count does not match hashFeedbacks")
        with self._lock:
            for item in items:
                if not isinstance(item, dict) or item.get("feedbackValue") not in FEEDBACK_VALUES:
                    raise InvalidInput("each feedback has a hashValue and a known feedbackValue")
                known = [h for h in self.hashes.values() if h.value == item.get("hashValue")]
                if not known:
                    raise InvalidInput(f"unknown hashValue {item.get('hashValue')!r}")
                entry = {
                    "feedbackValue": item["feedbackValue"],
                    "tags": list(item.get("tags") or []),
                    "source": "suraksha",
                }
                for h in known:
                    h.feedbacks.append(entry)
                self.feedback.append({"hashValue": item["hashValue"], **entry})
        return {"count": len(items)}
