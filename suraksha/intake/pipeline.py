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
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.banks.flood import FloodPolicy, count_and_check
from suraksha.banks.index import BankIndex
from suraksha.banks.matching import MatchOutcome
from suraksha.banks.models import BankKind
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit, ItemState, MediaState
from suraksha.content.services import record_entities
from suraksha.db.base import Base, utcnow
from suraksha.db.engine import Database
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.models import Verdict
from suraksha.enforcement.policy import BankFinding, Findings, Policy, RuleFinding, decide
from suraksha.exchanges.feedback import queue_seen
from suraksha.exchanges.trust import review_only_entries
from suraksha.hookspecs import ClassifierFinding
from suraksha.intake.store import MediaStore
from suraksha.plugins import Classifiers
from suraksha.signals.file_signals import FileSignals, HashOptions, HashState, hash_bytes

log = logging.getLogger(__name__)


class FetchFailed(Exception):
    """A media URL could not be fetched; ``reason`` says why (recorded, never treated as clean)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Fetcher = Callable[[str], bytes]
Finish = Callable[[Session, list[int]], None]


class ItemsRecorded(Protocol):
    def __call__(self, session: Session, item_ids: Sequence[int], /) -> object:
        """Items whose findings were just written, in the transaction that writes them: the port to the
        areas above intake that follow each item (``suraksha.network.tasks.queue_items``: the account
        graph), wired in ``suraksha.app``."""
        ...


"""Runs in the write transaction of a batch with the ids of the items done (``process_many``)."""
_POOL_LOCK = threading.Lock()
_MEDIA_COLUMNS = (
    "state",
    "error",
    "size",
    "md5",
    "sha256",
    "media_format",
    "vpdq_frames",
    "pdq",
    "pdq_quality",
)
"""What processing writes to a media row."""


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
class _Loaded:
    item_id: int
    media: list[tuple[int, str | None, str | None, int]]
    fields: dict[str, str]
    reporter_kind: str | None


@dataclass
class _Analysed:
    item_id: int
    results: list[MediaResult]
    text: TextFindings
    findings: Findings
    verdict: str | None = None


@dataclass
class Pipeline:
    db: Database
    index: BankIndex
    store: MediaStore
    options: HashOptions
    policy: Policy
    follow_ups: DecisionFollowUps
    """Enforcement's ports into review and the vault (``suraksha.app.DECISION_FOLLOW_UPS``)."""
    text_rules: TextRules | None = None
    fetch: Fetcher | None = None
    classifiers: Classifiers | None = None
    rotations: bool = True
    delete_clean_media: bool = True
    hash_threads: int = 2
    """Items of a batch hashed at once (decoding and hashing release the GIL)."""
    recorded: ItemsRecorded | None = None
    """Told of the items each write recorded (the account graph follows them)."""
    flood: FloodPolicy = field(default_factory=FloodPolicy)
    """Flood quarantine's thresholds (``suraksha.banks.flood``)."""
    clock: Callable[[], datetime] = utcnow
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    def process(self, item_id: int) -> bool:
        """Process one item. False when it was already processed (nothing written)."""
        with self.db.reading() as session:
            loaded = self._load(session, [item_id])
        if not loaded:
            return False
        analysed = self._analyse(loaded[0])
        with self.db.session() as session:
            paused = is_on(session, KillSwitch.PAUSE_AUTOMATED_ENFORCEMENT)
            recorded = self._record(session, analysed, paused)
        if recorded:
            self._forget_clean([analysed])
        return recorded

    def process_many(
        self, item_ids: Sequence[int], *, finish: Finish | None = None
    ) -> dict[int, Exception | None]:
        """Process several items with one read and one write transaction, hashing on ``hash_threads``
        threads. The write has one statement per table for the whole batch; should it fail, each item
        is written again in a savepoint of its own, so one failure fails only its item. Answers None
        per item done (or already done), else its exception. IndexNotReady propagates: nothing is
        decided without the index.

        ``finish(session, done)`` runs in the write transaction, before it commits, with the ids of
        the items done (or already done): the worker completes their jobs there, so an item's effect
        and its job's completion commit together."""
        with self.db.reading() as session:
            loaded = self._load(session, item_ids)
        outcomes: dict[int, Exception | None] = dict.fromkeys(item_ids)
        if not loaded:
            if finish is not None:
                with self.db.session() as session:
                    finish(session, list(item_ids))
            return outcomes
        if len(loaded) > 1 and self.hash_threads > 1:
            analysed = list(self._hash_pool().map(self._analyse, loaded))
        else:
            analysed = [self._analyse(one) for one in loaded]
        try:
            with self.db.session() as session:
                recorded = self._record_together(session, analysed)
                if finish is not None:
                    finish(session, list(item_ids))
        except Exception as exc:  # nothing committed; one item may be at fault: write them one by one
            log.info("event=pipeline.batch_split items=%d error=%s", len(analysed), type(exc).__name__)
            recorded = self._record_each(analysed, outcomes, finish)
        self._forget_clean(recorded)
        return outcomes

    def _record_together(self, session: Session, analysed: list[_Analysed]) -> list[_Analysed]:
        """Write a batch's results with one statement per table: claim every item, write every media
        row, match and rule hit, and the decisions that settle alone (clean, mostly). Items whose
        decisions call for actions, a review case or entity links go through ``_record``'s steps.
        Answers the items this run recorded (an item claimed by an earlier run is left alone)."""
        paused = is_on(session, KillSwitch.PAUSE_AUTOMATED_ENFORCEMENT)
        claimed = enforcement.claim_many_for_decision(session, [one.item_id for one in analysed])
        mine = [one for one in analysed if one.item_id in claimed]
        if not mine:
            return []
        connection = session.connection()
        media = [_media_values(one.item_id, result) for one in mine for result in one.results]
        if media:
            connection.execute(_WRITE_MEDIA, media)
        matches = [row for one in mine for result in one.results for row in _match_rows(one.item_id, result)]
        if matches:
            connection.execute(insert(_table(ItemMatch)), matches)
            queue_seen(session, _seen(matches))
        hits = [_rule_hit_row(one.item_id, hit) for one in mine for hit in one.text.hits]
        if hits:
            connection.execute(insert(_table(ItemRuleHit)), hits)
        review_only, quarantined = self._review_only(session, [one.findings for one in mine])
        plans = {
            one.item_id: decide(
                self.policy, _with_trust(one.findings, review_only, quarantined), automation_paused=paused
            )
            for one in mine
        }
        plain = [
            one for one in mine if not one.text.entities and enforcement.settles_alone(plans[one.item_id])
        ]
        enforcement.record_plain_decisions(session, [(one.item_id, plans[one.item_id]) for one in plain])
        rest = [one for one in mine if one not in plain]
        if rest:
            items = {
                item.id: item
                for item in session.scalars(select(Item).where(Item.id.in_([one.item_id for one in rest])))
            }
            for one in rest:
                item = items[one.item_id]
                record_entities(session, item, one.text.entities)
                enforcement.record_decision(session, item, plans[one.item_id], follow_ups=self.follow_ups)
        for one in mine:
            one.verdict = plans[one.item_id].verdict
        if self.recorded is not None:
            self.recorded(session, [one.item_id for one in mine])
        return mine

    def _record_each(
        self, analysed: list[_Analysed], outcomes: dict[int, Exception | None], finish: Finish | None
    ) -> list[_Analysed]:
        """Write a batch's results item by item, each in a savepoint of its own, so that one failure
        fails only its item (recorded in ``outcomes``); the others commit."""
        recorded = []
        with self.db.session() as session:
            paused = is_on(session, KillSwitch.PAUSE_AUTOMATED_ENFORCEMENT)
            # One query puts the batch's items in the session (held here: the session only keeps them
            # weakly), so that each record finds its item there instead of reading it.
            items = session.scalars(select(Item).where(Item.id.in_([one.item_id for one in analysed]))).all()
            for one in analysed:
                try:
                    with session.begin_nested():
                        if self._record(session, one, paused):
                            recorded.append(one)
                except Exception as exc:  # this item only; the others commit
                    log.exception("event=pipeline.record_failed item=%d", one.item_id)
                    outcomes[one.item_id] = exc
            if finish is not None:
                finish(session, [item_id for item_id, outcome in outcomes.items() if outcome is None])
        del items
        return recorded

    def _hash_pool(self) -> ThreadPoolExecutor:
        """The threads that hash a batch's items, started once (not per batch: starting and joining
        threads took a tenth of a worker's time)."""
        with _POOL_LOCK:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.hash_threads, thread_name_prefix="pipeline-hash")
            return self._pool

    def close(self) -> None:
        """Stop the hashing threads (a later batch starts them again)."""
        with _POOL_LOCK:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _load(self, session: Session, item_ids: Sequence[int]) -> list[_Loaded]:
        # Core rows, not ORM objects: the loaded values only feed the analysis.
        rows = session.execute(
            select(
                Item.id,
                Item.text,
                Item.reporter_kind,
                Account.bio,
                Account.display_name,
                Account.handle,
            )
            .join(Account, Account.id == Item.account_id)
            .where(Item.id.in_(list(item_ids)), Item.state == ItemState.QUEUED)
            .order_by(Item.id)
        ).all()
        if not rows:
            return []
        media: dict[int, list[tuple[int, str | None, str | None, int]]] = {row.id: [] for row in rows}
        for m in session.execute(
            select(ItemMedia.item_id, ItemMedia.id, ItemMedia.url, ItemMedia.sha256, ItemMedia.position)
            .where(ItemMedia.item_id.in_(list(media)))
            .order_by(ItemMedia.item_id, ItemMedia.position)
        ):
            media[m.item_id].append((m.id, m.url, m.sha256, m.position))
        return [
            _Loaded(
                row.id,
                media[row.id],
                {"text": row.text, "bio": row.bio, "display_name": row.display_name, "handle": row.handle},
                row.reporter_kind,
            )
            for row in rows
        ]

    def _analyse(self, loaded: _Loaded) -> _Analysed:
        """Fetch, hash, match, read text, classify: no database."""
        results = [
            self._check_media(media_id, url, sha256, position)
            for media_id, url, sha256, position in loaded.media
        ]
        text = (
            self.text_rules.evaluate_fields(loaded.fields) if self.text_rules is not None else TextFindings()
        )
        classified = [f for r in results for f in r.classified]
        if self.classifiers is not None:
            classified += self.classifiers.text(loaded.fields)
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
            reporter_kind=loaded.reporter_kind,
        )
        return _Analysed(loaded.item_id, results, text, findings)

    def _record(self, session: Session, analysed: _Analysed, paused: bool) -> bool:
        """Claim the item and write what was found, the decision and its actions. False (nothing
        written) when another run claimed it first."""
        item_id = analysed.item_id
        if not enforcement.claim_for_decision(session, item_id):
            return False
        review_only, quarantined = self._review_only(session, [analysed.findings])
        findings = _with_trust(analysed.findings, review_only, quarantined)
        plan = decide(self.policy, findings, automation_paused=paused)
        item = session.get(Item, item_id)
        assert item is not None
        for result in analysed.results:
            self._write_media(session, item_id, result)
        if analysed.text.hits:
            session.execute(
                insert(_table(ItemRuleHit)), [_rule_hit_row(item_id, hit) for hit in analysed.text.hits]
            )
        record_entities(session, item, analysed.text.entities)
        enforcement.record_decision(session, item, plan, follow_ups=self.follow_ups)
        analysed.verdict = plan.verdict
        if self.recorded is not None:
            self.recorded(session, [item_id])
        return True

    def _review_only(self, session: Session, findings: Sequence[Findings]) -> tuple[set[int], set[int]]:
        """Bank entries among the findings of claimed items whose matches go to review: by exchange
        trust, and by flood quarantine (this counts the items' matches: claimed items only). Answers
        (all of them, the quarantined ones)."""
        quarantined = count_and_check(
            session, [[f.entry_id for f in one.banks] for one in findings], self.flood, self.clock()
        )
        return _review_only(session, findings) | quarantined, quarantined

    def _forget_clean(self, recorded: Sequence[_Analysed]) -> None:
        """Delete the stored bytes of media whose items were decided clean, unless another item that
        is not clean names the same bytes. One query for the whole batch."""
        if not self.delete_clean_media:
            return
        digests = {
            result.signals.sha256
            for analysed in recorded
            if analysed.verdict == Verdict.CLEAN
            for result in analysed.results
            if result.signals is not None and result.signals.sha256
        }
        if not digests:
            return
        with self.db.reading() as session:
            needed = set(
                session.scalars(
                    select(ItemMedia.sha256)
                    .join(Item, Item.id == ItemMedia.item_id)
                    .where(ItemMedia.sha256.in_(digests), Item.state != ItemState.DECIDED)
                )
            )
        for sha256 in digests - needed:
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
    def _write_media(session: Session, item_id: int, result: MediaResult) -> None:
        # Core statements, built once: one UPDATE of the media row (hashes, state), one INSERT of its
        # matches when there are any.
        session.execute(_WRITE_MEDIA, _media_values(item_id, result))
        matches = _match_rows(item_id, result)
        if matches:
            session.execute(insert(_table(ItemMatch)), matches)
            queue_seen(session, _seen(matches))


def _media_values(item_id: int, result: MediaResult) -> dict[str, object]:
    """The parameters of ``_WRITE_MEDIA`` for one media file's result."""
    signals = result.signals
    pdq = signals.pdq if signals is not None else None
    return {
        "media_id": result.media_id,
        "media_item": item_id,
        "state": MediaState.NOT_CHECKED if result.not_checked else MediaState.HASHED,
        "error": result.not_checked or "",
        "size": signals.size if signals is not None else None,
        "md5": signals.md5 if signals is not None else None,
        "sha256": signals.sha256 if signals is not None else None,
        "media_format": signals.media_format.value if signals and signals.media_format else None,
        "vpdq_frames": (len(signals.vpdq) or None) if signals is not None else None,
        "pdq": pdq.hex if pdq is not None else None,
        "pdq_quality": pdq.quality if pdq is not None else None,
    }


def _match_rows(item_id: int, result: MediaResult) -> list[dict[str, object]]:
    """The match rows of one media file: its hits, and the hits that an allow-list suppressed."""
    outcome = result.outcome
    if outcome is None:
        return []
    return [
        {
            "item_id": item_id,
            "media_id": result.media_id,
            "bank_name": hit.bank,
            "bank_category": hit.category,
            "entry_id": hit.entry_id,
            "signal_type": hit.signal_type,
            "distance": hit.distance,
            "rotation": hit.rotation,
            "suppressed": suppressed,
        }
        for hit, suppressed in [(h, False) for h in outcome.hits] + [(h, True) for h in outcome.suppressed]
    ]


def _seen(matches: Sequence[Mapping[str, object]]) -> dict[int, list[int]]:
    """The bank entries each item matched (not suppressed), for the exchanges' "seen" feedback."""
    seen: dict[int, list[int]] = {}
    for row in matches:
        if not row["suppressed"]:
            seen.setdefault(cast(int, row["item_id"]), []).append(cast(int, row["entry_id"]))
    return seen


def _rule_hit_row(item_id: int, hit: TextHit) -> dict[str, object]:
    return {
        "item_id": item_id,
        "pack": hit.pack,
        "pack_version": hit.version,
        "rule_id": hit.rule_id,
        "category": hit.category,
        "priority": hit.priority,
        "field": hit.field,
        "start": hit.start,
        "end": hit.end,
        "matched": hit.matched[:2000],
    }


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


_MEDIA = _table(ItemMedia)
_WRITE_MEDIA = (
    update(_MEDIA)
    .where(_MEDIA.c.id == bindparam("media_id"), _MEDIA.c.item_id == bindparam("media_item"))
    .values({name: bindparam(name) for name in _MEDIA_COLUMNS})
)


def _review_only(session: Session, findings: Sequence[Findings]) -> set[int]:
    """Bank entries among the findings that exchange trust sends to review (one query, none when no
    bank hit)."""
    ids = [f.entry_id for one in findings for f in one.banks]
    return review_only_entries(session, ids) if ids else set()


def _with_trust(findings: Findings, review_only: set[int], quarantined: set[int]) -> Findings:
    if not review_only or not any(f.entry_id in review_only for f in findings.banks):
        return findings
    banks = [
        replace(f, review_only=f.entry_id in review_only, quarantined=f.entry_id in quarantined)
        for f in findings.banks
    ]
    return replace(findings, banks=banks)
