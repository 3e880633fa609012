"""StopNCII, Tech Against Terrorism and ThreatExchange exchanges: fetched from their stand-ins over real
HTTP, through python-threatexchange's clients, into a bank (incremental, removals upstream, resumable
checkpoints), and StopNCII's feedback sent once per verdict. Credentials come from the environment
only, and are stored nowhere."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select, text

from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.banks.models import BankEntry
from suraksha.exchanges.feedback import queue_for_reversal, queue_seen
from suraksha.exchanges.models import Exchange, ExchangeApi, RunState, Trust
from suraksha.exchanges.stopncii_sim import StopNCIISimulator
from suraksha.exchanges.tat_sim import TATSimulator
from suraksha.exchanges.threatexchange_sim import ThreatExchangeSimulator
from suraksha.review.models import ViolationCategory
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.exchange_sims import create_stopncii_app, create_tat_app, create_threatexchange_app
from tests.integration.exchanges.conftest import bank_values, free_port, md5, pdq
from tests.integration.exchanges.test_feedback import (
    feedback_jobs,
    matched_item,
    review_decide,
    reviewer,
    run_feedback_jobs,
)
from tests.pipeline_support import real_pipeline, submit_picture

SUBSCRIPTION, FETCH_KEY, FEEDBACK_KEY = "sub-sim-only-1c9e", "fetch-sim-only-77a2", "feedback-sim-only-3b10"
TAT_USER, TAT_PASSWORD = "tat-tester", "tat-sim-only-password-51d0"
TE_APP, TE_SECRET, TE_GROUP = "1234567", "te-sim-only-secret-0c4d", 98765


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="exchange-sim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the stand-in did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def stopncii(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StopNCIISimulator, str]]:
    sim = StopNCIISimulator(SUBSCRIPTION, FETCH_KEY, FEEDBACK_KEY, page_size=4)
    monkeypatch.setenv("SURAKSHA_EXCHANGE_SN_CREDENTIALS", f"{SUBSCRIPTION}:{FETCH_KEY},{FEEDBACK_KEY}")
    with serve(create_stopncii_app(sim)) as url:
        yield sim, url + "/v1"


@pytest.fixture
def tat(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TATSimulator, str]]:
    sim = TATSimulator(TAT_USER, TAT_PASSWORD, page_size=4)
    monkeypatch.setenv("SURAKSHA_EXCHANGE_TT_CREDENTIALS", f"{TAT_USER}:{TAT_PASSWORD}")
    with serve(create_tat_app(sim)) as url:
        yield sim, url + "/"


def _no_secret_stored(p: Platform, *secrets: str) -> None:
    with p.db.reading() as session:
        dumped = " ".join(
            str(row)
            for table in ("exchanges", "exchange_fetch_runs", "exchange_entries", "audit_events", "jobs")
            for row in session.execute(text(f"SELECT * FROM {table}"))
        )
    for secret in secrets:
        assert secret not in dumped


def test_stopncii_fetch_withdrawal_and_feedback(
    platform: Platform, stopncii: tuple[StopNCIISimulator, str]
) -> None:
    sim, url = stopncii
    sim.upsert([{"hashValue": pdq(n)} for n in range(1, 10)], now=1_700_000_000)
    sim.upsert(
        [{"signalType": "VideoMD5", "hashValue": md5(50)}, {"signalType": "URL", "hashValue": "x"}],
        now=1_700_000_100,
    )
    platform.exchange_create(
        "sn", ExchangeApi.STOPNCII, "known", settings={"url": url}, trust=Trust.REVIEW, actor="test"
    )
    first = platform.exchange_fetch("sn", actor="test")
    assert first.state == RunState.DONE, first.error
    assert first.added == 10 and first.pages >= 3  # pages of 4
    assert bank_values(platform) == sorted([*(pdq(n) for n in range(1, 10)), md5(50)])

    # the subject withdraws one hash: it is removed (python-threatexchange's own mapping never would)
    sim.upsert([{"hashValue": pdq(3), "hashStatus": "Withdrawn"}], now=1_700_000_200)
    second = platform.exchange_fetch("sn", actor="test")
    assert (second.state, second.added, second.removed) == (RunState.DONE, 0, 1), second.error
    assert pdq(3) in bank_values(platform, enabled=False)

    # feedback: one true positive, one false positive, once each
    user = reviewer(platform)
    review_decide(platform, user, matched_item(platform, pdq(1)).case_id, ViolationCategory.SEXUAL_VIOLENCE)
    review_decide(platform, user, matched_item(platform, pdq(2)).case_id, ViolationCategory.BENIGN)
    review_decide(platform, user, matched_item(platform, pdq(1)).case_id, ViolationCategory.SEXUAL_VIOLENCE)
    assert run_feedback_jobs(platform) == 2
    assert sorted((f["hashValue"], f["feedbackValue"]) for f in sim.feedback) == [
        (pdq(1), "Blocked"),
        (pdq(2), "NotBlocked"),
    ]
    assert {state for _, state in feedback_jobs(platform)} == {"done"}
    _no_secret_stored(platform, FETCH_KEY, FEEDBACK_KEY, SUBSCRIPTION)


def test_tat_fetch_incremental_and_deleted(platform: Platform, tat: tuple[TATSimulator, str]) -> None:
    sim, url = tat
    sim.upsert([{"id": n, "hash_digest": pdq(n)} for n in range(1, 10)], now=1_700_000_000)
    sim.upsert(
        [
            {"id": 20, "hash_digest": md5(20), "algorithm": "MD5", "file_type": "mp4"},
            {
                "id": 21,
                "hash_digest": md5(21),
                "algorithm": "MD5",
                "file_type": "jpg",
            },  # not a video: skipped
        ],
        now=1_700_000_100,
    )
    platform.exchange_create(
        "tt", ExchangeApi.TAT, "known", settings={"url": url}, trust=Trust.REVIEW, actor="test"
    )
    first = platform.exchange_fetch("tt", actor="test")
    assert first.state == RunState.DONE, first.error
    assert first.added == 10 and first.pages >= 3
    assert sim.sign_ins == 1  # once a fetch, not once a page
    assert bank_values(platform) == sorted([*(pdq(n) for n in range(1, 10)), md5(20)])

    before = sim.requests
    sim.upsert(
        [{"id": 4, "hash_digest": pdq(4), "deleted": True}, {"id": 30, "hash_digest": pdq(30)}],
        now=1_700_000_200,
    )
    second = platform.exchange_fetch("tt", actor="test")
    assert (second.state, second.added, second.removed) == (RunState.DONE, 1, 1), second.error
    assert sim.requests - before == 1  # from the checkpoint, not the whole list again
    assert pdq(4) in bank_values(platform, enabled=False) and pdq(30) in bank_values(platform)
    with platform.db.reading() as session:
        exchange = session.scalar(select(Exchange).where(Exchange.name == "tt"))
        assert exchange is not None and exchange.checkpoint and "1700000200" in exchange.checkpoint
    _no_secret_stored(platform, TAT_PASSWORD)


@pytest.fixture
def threatexchange(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ThreatExchangeSimulator, str]]:
    sim = ThreatExchangeSimulator(TE_APP, TE_SECRET, TE_GROUP, page_size=4)
    monkeypatch.setenv("SURAKSHA_EXCHANGE_TE_CREDENTIALS", f"{TE_APP}:{TE_SECRET}")
    with serve(create_threatexchange_app(sim)) as url:
        yield sim, url + "/v26.0"


def test_threatexchange_fetch_incremental_and_deleted(
    platform: Platform, threatexchange: tuple[ThreatExchangeSimulator, str]
) -> None:
    sim, url = threatexchange
    sim.upsert([{"id": n, "indicator": pdq(n)} for n in range(1, 10)], now=1_700_000_000)
    sim.upsert(
        [
            {"id": 20, "indicator": md5(20), "type": "HASH_VIDEO_MD5"},
            {"id": 21, "indicator": md5(21), "type": "HASH_MD5"},  # an MD5 not tagged as a video: skipped
            {"id": 22, "indicator": "https://example.org/", "type": "URI"},  # a type we do not take
        ],
        now=1_700_000_100,
    )
    settings = {"url": url, "privacy_group": TE_GROUP}
    platform.exchange_create(
        "te", ExchangeApi.THREATEXCHANGE, "known", settings=settings, trust=Trust.REVIEW, actor="test"
    )
    first = platform.exchange_fetch("te", actor="test")
    assert first.state == RunState.DONE, first.error
    assert first.added == 10 and first.pages >= 3
    assert bank_values(platform) == sorted([*(pdq(n) for n in range(1, 10)), md5(20)])

    # nothing new: an empty page is no failure (python-threatexchange's own loop asserts on it)
    assert platform.exchange_fetch("te", actor="test").state == RunState.DONE

    before = sim.requests
    sim.upsert(
        [{"id": 4, "indicator": pdq(4), "should_delete": True}, {"id": 30, "indicator": pdq(30)}],
        now=1_700_000_200,
    )
    second = platform.exchange_fetch("te", actor="test")
    assert (second.state, second.added, second.removed) == (RunState.DONE, 1, 1), second.error
    # from the checkpoint (start_time is inclusive: the updates of its second again), not 4 pages
    assert sim.requests - before == 2
    assert pdq(4) in bank_values(platform, enabled=False) and pdq(30) in bank_values(platform)

    sim.app_secret = "rotated"  # a refused token: the run fails, and the token is nowhere
    refused = platform.exchange_fetch("te", actor="test")
    assert refused.state == RunState.FAILED and "HTTP 400" in refused.error and TE_SECRET not in refused.error
    _no_secret_stored(platform, TE_SECRET)


def _entry_id(p: Platform, value: str) -> int:
    with p.db.reading() as session:
        entry_id = session.scalar(select(BankEntry.id).where(BankEntry.value == value))
        assert entry_id is not None
        return entry_id


def _seen(p: Platform, item_id: int, value: str) -> int:
    """What intake does when it records an item's matches."""
    with p.db.session() as session:
        return queue_seen(session, {item_id: [_entry_id(p, value)]})


def test_threatexchange_feedback_reacts_on_the_descriptors(
    platform: Platform, threatexchange: tuple[ThreatExchangeSimulator, str]
) -> None:
    """Seen, true and false positives as ThreatExchange's reactions on the descriptors each record was
    fetched with, once each; an appeal's reversal follows a confirmation with a false positive."""
    sim, url = threatexchange
    sim.upsert([{"id": n, "indicator": pdq(n)} for n in range(1, 4)], now=1_700_000_000)
    settings = {"url": url, "privacy_group": TE_GROUP}
    platform.exchange_create(
        "te", ExchangeApi.THREATEXCHANGE, "known", settings=settings, trust=Trust.REVIEW, actor="test"
    )
    assert platform.exchange_fetch("te", actor="test").state == RunState.DONE
    user = reviewer(platform)
    confirmed = matched_item(platform, pdq(1))
    assert _seen(platform, confirmed.item_id, pdq(1)) == 1
    assert _seen(platform, matched_item(platform, pdq(1)).item_id, pdq(1)) == 0  # seen once a record
    review_decide(platform, user, confirmed.case_id, ViolationCategory.SEXUAL_VIOLENCE)
    review_decide(platform, user, matched_item(platform, pdq(2)).case_id, ViolationCategory.BENIGN)
    assert run_feedback_jobs(platform) == 3
    assert sorted(sim.reactions) == [(10, "HELPFUL"), (10, "SAW_THIS_TOO"), (20, "NOT_HELPFUL")]

    with platform.db.session() as session:
        assert queue_for_reversal(session, confirmed.item_id, appeal_id=99) == 1
        assert queue_for_reversal(session, confirmed.item_id, appeal_id=99) == 0
    assert run_feedback_jobs(platform) == 1
    assert sim.reactions[-1] == (10, "NOT_HELPFUL")
    assert {state for _, state in feedback_jobs(platform)} == {"done"}
    with platform.db.reading() as session:
        details = [
            json.loads(e.details)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "exchange:feedback"))
        ]
    assert sorted(d["verdict"] for d in details) == [
        "false_positive",
        "false_positive",
        "seen",
        "true_positive",
    ]
    assert {d.get("appeal") for d in details} == {None, 99} and all(d["sent"] for d in details)
    _no_secret_stored(platform, TE_SECRET)


def test_threatexchange_refused_reaction_fails_the_job(
    platform: Platform, threatexchange: tuple[ThreatExchangeSimulator, str]
) -> None:
    sim, url = threatexchange
    sim.upsert([{"id": 5, "indicator": pdq(5)}], now=1_700_000_000)
    settings = {"url": url, "privacy_group": TE_GROUP}
    platform.exchange_create(
        "te", ExchangeApi.THREATEXCHANGE, "known", settings=settings, trust=Trust.REVIEW, actor="test"
    )
    assert platform.exchange_fetch("te", actor="test").state == RunState.DONE
    sim.upsert([{"id": 5, "indicator": pdq(5), "should_delete": True}], now=1_700_000_100)  # gone upstream
    assert _seen(platform, matched_item(platform, pdq(5)).item_id, pdq(5)) == 1
    run_feedback_jobs(platform)
    assert sim.reactions == []
    [(_, state)] = feedback_jobs(platform)
    assert state != "done"


def test_stopncii_seen_is_pending_review_and_ncmec_gets_no_seen(
    platform: Platform, stopncii: tuple[StopNCIISimulator, str]
) -> None:
    sim, url = stopncii
    sim.upsert([{"hashValue": pdq(1)}], now=1_700_000_000)
    platform.exchange_create(
        "sn", ExchangeApi.STOPNCII, "known", settings={"url": url}, trust=Trust.REVIEW, actor="test"
    )
    assert platform.exchange_fetch("sn", actor="test").state == RunState.DONE
    assert _seen(platform, matched_item(platform, pdq(1)).item_id, pdq(1)) == 1
    assert run_feedback_jobs(platform) == 1
    assert [(f["hashValue"], f["feedbackValue"]) for f in sim.feedback] == [(pdq(1), "PendingReview")]


def test_an_item_matching_a_stopncii_hash_queues_seen_once(
    platform: Platform, stopncii: tuple[StopNCIISimulator, str], tmp_path: Path
) -> None:
    """Through intake: the pipeline that records the item's match queues the record's "seen"."""
    picture = synthetic_jpeg(202)
    signals = hash_bytes(picture, HashOptions())
    assert signals.pdq is not None
    sim, url = stopncii
    sim.upsert([{"hashValue": signals.pdq.hex}], now=1_700_000_000)
    platform.exchange_create(
        "sn", ExchangeApi.STOPNCII, "known", settings={"url": url}, trust=Trust.REVIEW, actor="test"
    )
    assert platform.exchange_fetch("sn", actor="test").state == RunState.DONE
    with real_pipeline(platform, tmp_path) as pipeline:
        for n in range(2):
            assert pipeline.process(submit_picture(pipeline, picture, f"seen-{n}"))
    assert [key.rpartition(":")[2] for key, _ in feedback_jobs(platform)] == ["seen"]
    assert run_feedback_jobs(platform) == 1
    assert [(f["hashValue"], f["feedbackValue"]) for f in sim.feedback] == [
        (signals.pdq.hex, "PendingReview")
    ]
