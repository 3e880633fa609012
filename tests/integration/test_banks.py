"""Banks and entries on real SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import pytest

from suraksha.banks import services
from suraksha.banks.formats import ListFormat
from suraksha.banks.matching import BruteForceMatcher
from suraksha.banks.models import BankCategory, BankKind
from suraksha.db import Database, utcnow
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.signals.file_signals import FileSignals
from suraksha.signals.pdq import PdqHash
from suraksha.signals.types import SignalKind
from suraksha.testing.hashes import flip_bits, md5_of, pdq_like

APPROVED = "review_decision:0"  # these tests are about indexes, not the csam four-eyes guard


def test_migrations_round_trip(db: Database) -> None:
    assert current_revision(db) == head_revision(db)
    downgrade(db, "base")
    assert current_revision(db) is None
    upgrade(db)
    assert current_revision(db) == head_revision(db)


def test_create_and_conflict(db: Database) -> None:
    with db.session() as s:
        bank = services.create_bank(s, "known", category=BankCategory.CSAM, pdq_threshold=20)
        assert bank.kind == BankKind.BLOCK
    with db.session() as s, pytest.raises(Conflict):
        services.create_bank(s, "known")
    with db.session() as s, pytest.raises(InvalidInput):
        services.create_bank(s, "bad name!")
    with db.session() as s, pytest.raises(InvalidInput):
        services.create_bank(s, "t", pdq_threshold=64)
    with db.session() as s, pytest.raises(NotFound):
        services.get_bank(s, "missing")


def test_csv_import_is_atomic_and_idempotent(db: Database) -> None:
    rng = random.Random(1)
    good = [pdq_like(rng) for _ in range(5)]
    lines = ["signal_type,signal,quality,note"] + [f"pdq,{h},90,ok" for h in good]
    lines += ["md5,nothex,,bad", "pdq,abc,,short", "unknown,ff,,what", f"md5,{md5_of('a')},,fine"]
    text = "\n".join(lines) + "\n"
    with db.session() as s:
        services.create_bank(s, "b")
    with db.session() as s:
        result = services.import_entries(s, "b", text)
        assert not result.committed
        assert [r.line for r in result.rejected] == [7, 8, 9]
        s.rollback()
    with db.session() as s:
        assert services.bank_stats(s, services.get_bank(s, "b")).total == 0
    with db.session() as s:
        result = services.import_entries(s, "b", text, skip_invalid=True)
        assert result.added == 6 and result.committed
    with db.session() as s:
        again = services.import_entries(s, "b", text, skip_invalid=True)
        assert again.added == 0 and again.unchanged == 6
    with db.session() as s:
        stats = services.bank_stats(s, services.get_bank(s, "b"))
        assert stats.total == 6 and stats.by_signal_type == {"pdq": 5, "md5": 1}


def test_csv_rejects_missing_header(db: Database) -> None:
    with db.session() as s:
        services.create_bank(s, "b")
    with db.session() as s, pytest.raises(InvalidInput, match="signal_type and signal"):
        services.import_entries(s, "b", "hash,kind\nabc,pdq\n", fmt=ListFormat.CSV)


def test_plain_list_type_detection(db: Database) -> None:
    rng = random.Random(2)
    pdqs = [pdq_like(rng) for _ in range(10)]
    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(10)]
    with db.session() as s:
        services.create_bank(s, "b")
    with db.session() as s:
        result = services.import_entries(s, "b", "# a list\n" + "\n".join([*pdqs, md5_of("x")]) + "\n")
        assert result.added == 11
        assert any("PDQ" in w for w in result.warnings)
    with db.session() as s, pytest.raises(InvalidInput, match="--signal-type"):
        services.import_entries(s, "b", "\n".join(shas))
    with db.session() as s:
        result = services.import_entries(s, "b", "\n".join(shas), signal_type=SignalKind.SHA256)
        assert result.added == 10
    with db.session() as s:
        result = services.import_entries(
            s, "b", "\n".join([*shas[:2], "zz", "12"]), signal_type=SignalKind.SHA256
        )
        assert [r.line for r in result.rejected] == [3, 4]


def test_vpdq_import_export_round_trip(db: Database, testdata: object) -> None:
    from pathlib import Path

    assert isinstance(testdata, Path)
    frames = (testdata / "vpdq" / "hashes" / "doorknob-hd-no-bar.txt").read_text()
    with db.session() as s:
        services.create_bank(s, "videos")
        services.create_bank(s, "copy")
    with db.session() as s:
        result = services.import_entries(s, "videos", frames)
        assert result.format == "vpdq" and result.added == 1
        exported = services.export_entries(s, "videos")
    with db.session() as s:
        result = services.import_entries(s, "copy", exported)
        assert result.added == 1 and result.format == "csv"
    with db.session() as s:
        [(_, a)] = services.active_entries(s, ["videos"])
        [(_, b)] = services.active_entries(s, ["copy"])
        assert a.value == b.value and a.signal_type == "vpdq"


def test_entry_disable_and_timed_return(db: Database) -> None:
    rng = random.Random(3)
    with db.session() as s:
        bank = services.create_bank(s, "b")
        e1, _ = services.add_entry(s, bank, SignalKind.PDQ, pdq_like(rng))
        e2, _ = services.add_entry(s, bank, SignalKind.PDQ, pdq_like(rng))
        ids = e1.id, e2.id
    with db.session() as s:
        services.set_entry_enabled(s, ids[0], False, reason="false positive")
        services.set_entry_enabled(s, ids[1], False, until=utcnow() + timedelta(hours=1))
    with db.session() as s:
        assert services.active_entries(s) == []
        later = services.active_entries(s, now=utcnow() + timedelta(hours=2))
        assert [e.id for _, e in later] == [ids[1]]
    with db.session() as s:
        services.set_bank_enabled(s, "b", False)
        assert services.active_entries(s, now=utcnow() + timedelta(hours=2)) == []


def test_matcher_thresholds_and_allow_lists(db: Database) -> None:
    rng = random.Random(4)
    target = pdq_like(rng)
    with db.session() as s:
        strict = services.create_bank(s, "strict", category=BankCategory.CSAM, pdq_threshold=10)
        loose = services.create_bank(s, "loose", pdq_threshold=31)
        services.add_entry(s, strict, SignalKind.PDQ, target)
        services.add_entry(s, loose, SignalKind.PDQ, target)
        services.add_entry(s, loose, SignalKind.MD5, md5_of("file"))
    with db.session() as s:
        matcher = BruteForceMatcher(services.active_entries(s))
    for distance, expected in (
        (0, {"strict", "loose"}),
        (10, {"strict", "loose"}),
        (11, {"loose"}),
        (31, {"loose"}),
        (32, set()),
    ):
        query = PdqHash.from_hex(flip_bits(target, distance, rng), quality=100)
        outcome = matcher.match(FileSignals(path=None, size=0, pdq=query))
        assert {h.bank for h in outcome.hits} == expected, distance
        assert all(h.distance == distance for h in outcome.hits)
    low = PdqHash.from_hex(target, quality=10)
    assert matcher.match(FileSignals(path=None, size=0, pdq=low)).hits == []
    with db.session() as s:
        allow = services.create_bank(s, "allow", kind=BankKind.ALLOW, pdq_threshold=5)
        services.add_entry(s, allow, SignalKind.PDQ, target, four_eyes=APPROVED)  # "strict" is csam
    with db.session() as s:
        matcher = BruteForceMatcher(services.active_entries(s))
    outcome = matcher.match(
        FileSignals(path=None, size=0, md5=md5_of("file"), pdq=PdqHash.from_hex(target, quality=100))
    )
    assert [h.signal_type for h in outcome.hits] == ["md5"]
    assert {h.bank for h in outcome.suppressed} == {"strict", "loose"}
    assert [h.bank for h in outcome.allowed_by] == ["allow"]


def test_every_entry_change_is_in_the_feed(db: Database) -> None:
    from sqlalchemy import select

    from suraksha.banks.models import BankChange

    rng = random.Random(5)
    with db.session() as s:
        bank = services.create_bank(s, "b")
        entry, _ = services.add_entry(s, bank, SignalKind.PDQ, pdq_like(rng))
        entry_id = entry.id
    with db.session() as s:
        ten = "\n".join(pdq_like(rng) for _ in range(10))
        services.import_entries(s, "b", ten, signal_type=SignalKind.PDQ)
        services.set_entry_enabled(s, entry_id, False)
        services.set_bank_enabled(s, "b", False)
    with db.session() as s:
        kinds = [c.kind for c in s.scalars(select(BankChange).order_by(BankChange.id))]
    assert kinds == ["entry_added"] * 11 + ["entry_disabled", "bank_changed"]

    def abandoned_import() -> None:
        with db.session() as s:
            services.import_entries(s, "b", pdq_like(rng), signal_type=SignalKind.PDQ)
            raise InvalidInput("abandon the unit of work")

    with pytest.raises(InvalidInput):  # a rolled-back import leaves no feed rows behind
        abandoned_import()
    with db.session() as s:
        assert len(list(s.scalars(select(BankChange)))) == 13


def test_one_person_cannot_unblock_a_csam_hash(db: Database) -> None:
    """Disabling a csam bank's entry or the bank, or allow-listing a hash it holds, needs the four-eyes
    approval of a review decision; every other bank changes as before."""
    rng = random.Random(9)
    value, other = pdq_like(rng), pdq_like(rng)
    md5 = md5_of("csam-held")
    with db.session() as s:
        csam = services.create_bank(s, "ncmec", category=BankCategory.CSAM)
        plain = services.create_bank(s, "spam")
        allow = services.create_bank(s, "allow", kind=BankKind.ALLOW)
        held, _ = services.add_entry(s, csam, SignalKind.PDQ, value)
        services.add_entry(s, csam, SignalKind.MD5, md5)
        spam, _ = services.add_entry(s, plain, SignalKind.PDQ, other)
        held_id, spam_id = held.id, spam.id
    with db.session() as s, pytest.raises(Forbidden, match="never one person's call"):
        services.set_entry_enabled(s, held_id, False, reason="looks benign")
    with db.session() as s, pytest.raises(Forbidden):
        services.set_entry_enabled(s, held_id, False, until=utcnow() + timedelta(hours=1))
    with db.session() as s, pytest.raises(Forbidden):
        services.set_bank_enabled(s, "ncmec", False)
    with db.session() as s, pytest.raises(Forbidden, match="csam bank 'ncmec' holds"):
        services.add_entry(s, services.get_bank(s, "allow"), SignalKind.PDQ, value)
    near = flip_bits(value, 40, rng)  # no longer equal, but an allow entry there would still suppress it
    with db.session() as s, pytest.raises(Forbidden, match="close to"):
        services.add_entry(s, services.get_bank(s, "allow"), SignalKind.PDQ, near)
    with db.session() as s:
        result = services.import_entries(s, "allow", f"{near}\n", signal_type=SignalKind.PDQ)
        assert (
            not result.committed and "close to an entry of the csam bank 'ncmec'" in result.rejected[0].reason
        )
        s.rollback()
    with db.session() as s:
        result = services.import_entries(
            s, "allow", f"{md5}\n{md5_of('benign')}\n", signal_type=SignalKind.MD5
        )
        assert not result.committed and [r.line for r in result.rejected] == [1]
        assert "csam bank 'ncmec'" in result.rejected[0].reason
        s.rollback()
    with db.session() as s:
        assert services.bank_stats(s, services.get_bank(s, "allow")).total == 0
        assert services.bank_stats(s, services.get_bank(s, "ncmec")).active == 2
        assert services.get_bank(s, "ncmec").enabled
        services.set_entry_enabled(s, spam_id, False)  # not csam: as before
        services.set_bank_enabled(s, "spam", False)
        services.add_entry(s, services.get_bank(s, "allow"), SignalKind.PDQ, other)
        services.set_entry_enabled(s, held_id, False, four_eyes="review_decision:7")  # an approved decision
        assert services.add_entry(s, allow, SignalKind.PDQ, value, four_eyes="review_decision:7")[1]
