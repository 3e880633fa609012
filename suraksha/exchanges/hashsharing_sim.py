"""A local stand-in for NCMEC's hash sharing API (v2), as python-threatexchange's ``NCMECHashAPI``
speaks it: Basic auth, XML answers, ``GET /v2/status`` and ``GET /v2/entries?from=&to=`` listing the
entries changed in a time range, paged with ``<paging><next>`` URLs (``start``, ``size``, ``max``) the
client follows as they are, images and videos in their own blocks with a ``maxTimestamp``, and removed
entries as ``deletedImage``/``deletedVideo`` tombstones; feedback on an entry's fingerprint as the
client sends it (``PUT /v2/entries/{member}/{id}/{PDQ|MD5|...}/feedback`` with a ``feedbackSubmission``
of ``affirmative`` or ``negative`` with ``reasonIds``, and ``GET /v2/feedback/{type}/reasons``),
recorded in ``feedback``. The protocol only; the HTTP side is
``suraksha.web.hashsharing_sim`` (``suraksha hashsharing-sim``).

It holds only what tests and demos put in it (``upsert``) or synthetic entries (``seed``): random bits
shaped like hashes, never hashes of any picture. Nothing sent to it reaches NCMEC.
"""

from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from suraksha.errors import InvalidInput

NAMESPACE = "https://hashsharing.ncmec.org/hashsharing/v2"
PAGE_SIZE = 1000
MEMBERS = {1: "Suraksha stand-in", 42: "Example Member", 43: "Another Member"}
FINGERPRINT_TYPES = ("md5", "sha1", "pdq", "pdna")
FEEDBACK_REASONS = {"3d2a7c44-0000-4000-8000-000000000001": "Not CSAM (stand-in)"}
"""The one negative reason the stand-in offers for every fingerprint type (made up)."""


@dataclass(frozen=True)
class SimFeedback:
    member: int
    id: str
    fingerprint: str
    """NCMEC's name: PDQ, MD5, ..."""
    vote: str
    """affirmative or negative"""
    reasons: tuple[str, ...] = ()


def parse_time(text: str) -> int:
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    raise InvalidInput(f"{text!r} is not a time such as 2017-10-24T15:00:00Z")


def format_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimEntry:
    member: int
    id: str
    kind: str
    """image or video"""
    timestamp: int
    deleted: bool = False
    classification: str = ""
    fingerprints: dict[str, str] = field(default_factory=dict)
    seq: int = 0


@dataclass
class HashSharingSimulator:
    username: str
    password: str
    page_size: int = PAGE_SIZE
    page_delay_s: float = 0.0
    """Each entries answer that holds entries waits this long (tests kill a fetch in the middle)."""
    entries: dict[tuple[int, str], SimEntry] = field(default_factory=dict)
    requests: int = 0
    feedback: list[SimFeedback] = field(default_factory=list)
    serve_s: float = 0.0
    """Seconds spent answering entries requests (benchmarks report the stand-in's share)."""
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _by_time: list[SimEntry] | None = None
    _times: list[int] = field(default_factory=list)
    """The entries by timestamp (a time range is two bisections), rebuilt after a change."""
    _ranges: dict[tuple[int, int], list[SimEntry]] = field(default_factory=dict)
    """The entries of time ranges being paged through, as a server keeps a cursor: a page of a range
    costs its page, not a scan of the whole list. Dropped on every change."""

    def authorised(self, credentials: tuple[str, str] | None) -> bool:
        return credentials == (self.username, self.password)

    def upsert(self, rows: Sequence[Mapping[str, Any]], *, now: int | None = None) -> int:
        """Add, change or remove (``deleted: true``) entries: ``member``, ``id``, ``type`` (image or
        video), ``timestamp`` (default: now - 60 s), ``classification``, and fingerprints by NCMEC's
        names (``pdq``, ``md5``, ...)."""
        default_ts = (now or int(time.time())) - 60
        with self._lock:
            self._ranges.clear()
            self._by_time = None
            for row in rows:
                member, entry_id = int(row.get("member", 42)), str(row["id"])
                kind = str(row.get("type", "image"))
                if kind not in ("image", "video"):
                    raise InvalidInput(f"entry {entry_id}: type must be image or video")
                self._seq += 1
                fingerprints = {k: str(row[k]) for k in FINGERPRINT_TYPES if row.get(k)}
                self.entries[member, entry_id] = SimEntry(
                    member=member,
                    id=entry_id,
                    kind=kind,
                    timestamp=int(row.get("timestamp") or default_ts),
                    deleted=bool(row.get("deleted")),
                    classification=str(row.get("classification", "")),
                    fingerprints={} if row.get("deleted") else fingerprints,
                    seq=self._seq,
                )
        return len(rows)

    def seed(self, count: int, *, seed: int = 1, now: int | None = None, span_s: int = 30 * 86400) -> None:
        """``count`` synthetic image entries with random PDQ values (random bits: no picture's hash),
        their timestamps spread over ``span_s`` before ``now`` - 60 s."""
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
        end = (now or int(time.time())) - 60
        rows = [
            {
                "member": rng.choice(list(MEMBERS)),
                "id": f"synthetic-{n}",
                "type": "image",
                "timestamp": end - rng.randrange(span_s),
                "classification": "A1",
                "pdq": f"{rng.getrandbits(256):064x}",
            }
            for n in range(count)
        ]
        self.upsert(rows)

    def status_xml(self) -> bytes:
        root = ET.Element("status", xmlns=NAMESPACE)
        ET.SubElement(root, "ipAddress").text = "127.0.0.1"
        ET.SubElement(root, "username").text = self.username
        ET.SubElement(root, "member", id="1").text = MEMBERS[1]
        return _document(root)

    def entries_xml(self, params: Mapping[str, str]) -> bytes:
        """One page of the entries changed in [from, to] (both inclusive), in a stable order."""
        start_ts = parse_time(params.get("from", format_time(0)))
        end_ts = parse_time(params["to"]) if params.get("to") else int(time.time())
        try:
            start = int(params.get("start", "1"))
            size = int(params.get("size", str(self.page_size)))
        except ValueError:
            raise InvalidInput("start and size must be integers") from None
        if start < 1 or not 1 <= size <= 10_000:
            raise InvalidInput("start must be >= 1 and size between 1 and 10000")
        began = time.perf_counter()
        with self._lock:
            self.requests += 1
            in_range = self._ranges.get((start_ts, end_ts)) if start > 1 else None
            if in_range is None:
                if self._by_time is None:
                    self._by_time = sorted(self.entries.values(), key=lambda e: e.timestamp)
                    self._times = [e.timestamp for e in self._by_time]
                low, high = bisect_left(self._times, start_ts), bisect_right(self._times, end_ts)
                in_range = sorted(self._by_time[low:high], key=lambda e: e.seq)
                if len(self._ranges) >= 8:
                    self._ranges.pop(next(iter(self._ranges)))
                self._ranges[start_ts, end_ts] = in_range
        page = in_range[start - 1 : start - 1 + size]
        # Written as text (escaped), not built as a tree: the stand-in's cost is paid by every client
        # a benchmark runs against it, so it is kept small.
        parts = [f'<queryResult xmlns="{NAMESPACE}">']
        for kind, block in (("image", "images"), ("video", "videos")):
            rows = [e for e in page if e.kind == kind]
            if not rows:
                continue
            newest = format_time(max(e.timestamp for e in rows))
            parts.append(f'<{block} count="{len(rows)}" maxTimestamp="{newest}">')
            for entry in rows:
                tag = ("deleted" + kind.capitalize()) if entry.deleted else kind
                member = escape(MEMBERS.get(entry.member, "Member"))
                parts.append(
                    f'<{tag}><member id="{entry.member}">{member}</member>'
                    f"<timestamp>{format_time(entry.timestamp)}</timestamp><id>{escape(entry.id)}</id>"
                )
                if not entry.deleted:
                    if entry.classification:
                        parts.append(f"<classification>{escape(entry.classification)}</classification>")
                    prints = "".join(f"<{n}>{escape(v)}</{n}>" for n, v in entry.fingerprints.items())
                    parts.append(f"<fingerprints>{prints}</fingerprints>" if prints else "<fingerprints />")
                parts.append(f"</{tag}>")
            parts.append(f"</{block}>")
        if start - 1 + size < len(in_range):
            next_url = (
                f"/v2/entries?from={quote(format_time(start_ts))}&to={quote(format_time(end_ts))}"
                f"&start={start + size}&size={size}&max={len(in_range)}"
            )
            parts.append(f"<paging><next>{escape(next_url)}</next></paging>")
        parts.append("</queryResult>")
        document = _XML_DECLARATION + "".join(parts).encode()
        with self._lock:
            self.serve_s += time.perf_counter() - began
        if self.page_delay_s and page:
            time.sleep(self.page_delay_s)
        return document

    def feedback_reasons_xml(self, fingerprint: str) -> bytes:
        if fingerprint.lower() not in {*FINGERPRINT_TYPES, "netclean", "videntifier"}:
            raise InvalidInput(f"unknown fingerprint type {fingerprint!r}")
        root = ET.Element("feedbackReasonsResult", xmlns=NAMESPACE)
        block = ET.SubElement(root, "availableFeedbackReasons")
        for guid, name in FEEDBACK_REASONS.items():
            ET.SubElement(block, "reason", guid=guid, name=name)
        return _document(root)

    def submit_feedback(self, member: int, entry_id: str, fingerprint: str, body: bytes) -> bool:
        """Record a vote on one fingerprint of an entry; False when there is no such live entry
        with that fingerprint (404). InvalidInput when the body is not a feedback submission."""
        try:
            root = ET.fromstring(body)  # noqa: S314 - our own tests' bodies, bounded by the HTTP side
        except ET.ParseError:
            raise InvalidInput("the body is not XML") from None
        votes = [el for el in root if el.tag.rpartition("}")[2] in ("affirmative", "negative")]
        if root.tag.rpartition("}")[2] != "feedbackSubmission" or len(votes) != 1:
            raise InvalidInput("send a feedbackSubmission with one affirmative or negative element")
        vote = votes[0].tag.rpartition("}")[2]
        reasons = tuple(el.text or "" for el in votes[0].iter() if el.tag.rpartition("}")[2] == "guid")
        if vote == "negative" and (not reasons or any(r not in FEEDBACK_REASONS for r in reasons)):
            raise InvalidInput("a negative vote names one of the offered reasonIds")
        with self._lock:
            entry = self.entries.get((member, entry_id))
            if entry is None or entry.deleted or fingerprint.lower() not in entry.fingerprints:
                return False
            self.feedback.append(SimFeedback(member, entry_id, fingerprint.upper(), vote, reasons))
        return True


_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _document(root: ET.Element) -> bytes:
    return _XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()
