"""The detection pipeline for one item: fetch media → hash → match → text rules → classifiers →
decision, then the actions the decision calls for.

Network and CPU work (fetching, hashing) runs outside any database transaction; the results are
written in one short transaction that first claims the item (queued → decided). A job that runs
twice, because a worker died after that commit, finds the item claimed and writes nothing: every
effect (matches, decision, actions, deliveries) happens once.

What is not known is never clean: a media file that cannot be fetched or decoded, or that runs out
of time, is ``not_checked`` and the item goes to review; a match index that is not ready raises
``IndexNotReady``, and the job is retried later rather than deciding anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.banks.index import BankIndex
from suraksha.banks.matching import MatchOutcome
from suraksha.banks.models import BankKind
from suraksha.db.engine import Database
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.models import Verdict
from suraksha.enforcement.policy import BankFinding, Findings, Policy, RuleFinding, decide
from suraksha.hookspecs import ClassifierFinding
from suraksha.intake.models import Item, ItemMatch, ItemMedia, ItemRuleHit, MediaState
from suraksha.intake.store import MediaStore
from suraksha.network.services import record_entities
from suraksha.plugins import Classifiers
from suraksha.signals.file_signals import FileSignals, HashOptions, HashState, hash_bytes

log = logging.getLogger(__name__)


class FetchFailed(Exception):
    """A media URL could not be fetched; ``reason`` says why (recorded, never treated as clean)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Fetcher = Callable[[str], bytes]


@dataclass(frozen=True)
class TextHit:
    pack: str
    version: str
    rule_id: str
    category: str
    priority: int
    field: str
    start: int
    end: int
    matched: str


@dataclass(frozen=True)
class TextEntity:
    kind: str
    value: str
    field: str
    start: int
    end: int


@dataclass(frozen=True)
class TextFindings:
    hits: list[TextHit] = field(default_factory=list)
    entities: list[TextEntity] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    """Why text could not be read by the rules (too long...): never the same as no hit."""


class TextRules(Protocol):
    """What the pipeline needs from the rules engine (``suraksha.rules``)."""

    def evaluate_fields(self, fields: Mapping[str, str]) -> TextFindings: ...


@dataclass
class MediaResult:
    media_id: int
    signals: FileSignals | None
    outcome: MatchOutcome | None
    not_checked: str | None = None
    classified: list[ClassifierFinding] = field(default_factory=list)


@dataclass
class Pipeline:
    db: Database
    index: BankIndex
    store: MediaStore
    options: HashOptions
    policy: Policy
    text_rules: TextRules | None = None
    fetch: Fetcher | None = None
    endpoints: Sequence[str] = ()
    classifiers: Classifiers | None = None
    rotations: bool = True
    delete_clean_media: bool = True

    def process(self, item_id: int) -> bool:
        """Process one item. False when it was already processed (nothing written)."""
        with self.db.session() as session:
            item = session.scalar(
                select(Item)
                .where(Item.id == item_id)
                .options(selectinload(Item.media), selectinload(Item.account))
            )
            if item is None or item.state != "queued":
                return False
            media = [(m.id, m.url, m.sha256, m.position) for m in item.media]
            fields = {
                "text": item.text,
                "bio": item.account.bio,
                "display_name": item.account.display_name,
                "handle": item.account.handle,
            }
            reporter_kind = item.reporter_kind
        results = [
            self._check_media(media_id, url, sha256, position) for media_id, url, sha256, position in media
        ]
        text = self.text_rules.evaluate_fields(fields) if self.text_rules is not None else TextFindings()
        classified = [f for r in results for f in r.classified]
        if self.classifiers is not None:
            classified += self.classifiers.text(fields)
        findings = Findings(
            banks=[
                BankFinding(h.bank, h.category, h.entry_id, h.signal_type, h.distance)
                for r in results
                if r.outcome is not None
                for h in r.outcome.hits
                if h.bank_kind == BankKind.BLOCK
            ],
            rules=[RuleFinding(h.pack, h.version, h.rule_id, h.category, h.priority) for h in text.hits],
            classifiers=classified,
            not_checked=[r.not_checked for r in results if r.not_checked is not None] + text.not_evaluated,
            reporter_kind=reporter_kind,
        )
        with self.db.session() as session:
            paused = is_on(session, KillSwitch.PAUSE_AUTOMATED_ENFORCEMENT)
            plan = decide(self.policy, findings, automation_paused=paused)
            if not enforcement.claim_for_decision(session, item_id):
                return False
            item = session.get(Item, item_id)
            assert item is not None
            for result in results:
                self._write_media(session, result)
            for hit in text.hits:
                session.add(
                    ItemRuleHit(
                        item_id=item_id,
                        pack=hit.pack,
                        pack_version=hit.version,
                        rule_id=hit.rule_id,
                        category=hit.category,
                        priority=hit.priority,
                        field=hit.field,
                        start=hit.start,
                        end=hit.end,
                        matched=hit.matched[:2000],
                    )
                )
            record_entities(session, item, text.entities)
            enforcement.record_decision(session, item, plan, endpoints=self.endpoints)
        if plan.verdict == Verdict.CLEAN and self.delete_clean_media:
            for result in results:
                if result.signals is not None and result.signals.sha256:
                    self._forget(result.signals.sha256)
        return True

    def _forget(self, sha256: str) -> None:
        with self.db.session() as session:
            still_needed = session.scalar(
                select(ItemMedia.id)
                .join(Item, Item.id == ItemMedia.item_id)
                .where(ItemMedia.sha256 == sha256, Item.state != "decided")
                .limit(1)
            )
        if still_needed is None:
            self.store.delete(sha256)

    def _check_media(self, media_id: int, url: str | None, sha256: str | None, position: int) -> MediaResult:
        data = self.store.get(sha256) if sha256 else None
        if data is None:
            if url is None:
                return MediaResult(media_id, None, None, "uploaded bytes are missing from the media store")
            if self.fetch is None:
                return MediaResult(media_id, None, None, "media URLs are not fetched (no fetcher configured)")
            try:
                data = self.fetch(url)
            except FetchFailed as exc:
                return MediaResult(media_id, None, None, f"fetch failed: {exc.reason}")
            self.store.put(data)
        signals = hash_bytes(data, self.options)
        outcome = self.index.match(signals, rotations=self.rotations)  # IndexNotReady: retried later
        if signals.state != HashState.HASHED:
            reason = f"{signals.state}: {signals.error or 'not decodable'}"
            return MediaResult(media_id, signals, outcome, reason)
        classified = self.classifiers.media(data, signals, position) if self.classifiers is not None else []
        return MediaResult(media_id, signals, outcome, classified=classified)

    @staticmethod
    def _write_media(session: Session, result: MediaResult) -> None:
        media = session.get(ItemMedia, result.media_id)
        if media is None:
            return
        signals = result.signals
        if signals is not None:
            media.size = signals.size
            media.md5, media.sha256 = signals.md5, signals.sha256
            media.media_format = signals.media_format.value if signals.media_format else None
            if signals.pdq is not None:
                media.pdq, media.pdq_quality = signals.pdq.hex, signals.pdq.quality
            media.vpdq_frames = len(signals.vpdq) or None
        media.state = MediaState.NOT_CHECKED if result.not_checked else MediaState.HASHED
        media.error = result.not_checked or ""
        outcome = result.outcome
        if outcome is None:
            return
        for hit, suppressed in [(h, False) for h in outcome.hits] + [(h, True) for h in outcome.suppressed]:
            session.add(
                ItemMatch(
                    item_id=media.item_id,
                    media_id=media.id,
                    bank_name=hit.bank,
                    bank_category=hit.category,
                    entry_id=hit.entry_id,
                    signal_type=hit.signal_type,
                    distance=hit.distance,
                    rotation=hit.rotation,
                    suppressed=suppressed,
                )
            )
