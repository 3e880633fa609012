"""Notices end to end on SQLite and PostgreSQL: the registry, resolution by URL, platform id and upload,
the fetch port's stand-in, duplicates joining one case, the webhooks over real HTTP (signed with the
flagger's own secret), the clocks under a fake clock, and accuracy with its status-review mark."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from suraksha.audit import AuditEvent
from suraksha.errors import Conflict, ExternalServiceError, Forbidden, InvalidInput, NotFound
from suraksha.flaggers.models import FlaggerMessage, FlaggerState, MessageState, NoticeTarget
from suraksha.flaggers.ports import LocalPlatformItems
from suraksha.flaggers.registry import NewFlagger
from suraksha.flaggers.schemas import NoticeIn
from suraksha.outbound.signatures import verify_signature
from suraksha.review.models import CaseSource, ReviewCase, ViolationCategory
from suraksha.settings import Settings

from .conftest import World

RECEIVED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def notice(reference: str, *targets: dict[str, str], **fields: object) -> NoticeIn:
    body: dict[str, object] = {
        "reference": reference,
        "category": "csam",
        "explanation": "The post offers videos of children for sale (benign test data).",
        "targets": list(targets),
        **fields,
    }
    return NoticeIn.model_validate(body)


def case_of(world: World, item_id: int) -> ReviewCase:
    with world.platform.db.reading() as session:
        case = session.scalar(
            select(ReviewCase).where(ReviewCase.item_id == item_id).order_by(ReviewCase.id.desc())
        )
        assert case is not None
        session.expunge(case)
        return case


def test_the_registry_validates_and_keeps_the_secret_sealed(world: World) -> None:
    ngo = world.flagger(
        "ngo", designation="dsa_art22", designated_on=date(2025, 5, 1), designating_authority="DSC Ireland"
    )
    shown = world.platform.flagger_show("ngo")
    assert shown["designation"] == "dsa_art22" and shown["designating_authority"] == "DSC Ireland"
    assert ngo.key.startswith("sk_") and len(ngo.secret) > 30
    with world.platform.db.reading() as session:
        stored = session.scalar(select(FlaggerMessage).limit(1))
        assert stored is None
        from suraksha.flaggers.models import Flagger

        row = session.scalar(select(Flagger))
        assert row is not None and ngo.secret not in row.webhook_secret  # sealed, not in plain
    with pytest.raises(InvalidInput, match="designating authority"):
        world.platform.flagger_add(
            NewFlagger(name="x", organisation="X", country="IE", designation="dsa_art22"), actor="cli:admin"
        )
    with pytest.raises(InvalidInput, match="grievance clocks"):
        world.platform.flagger_add(
            NewFlagger(name="y", organisation="Y", country="US", designation="hotline", jurisdiction="ZZ"),
            actor="cli:admin",
        )
    with pytest.raises(Conflict):
        world.flagger("ngo")
    world.platform.flagger_set_state(
        "ngo", FlaggerState.SUSPENDED, reason="designation revoked", actor="cli:admin"
    )
    with pytest.raises(Forbidden, match="suspended"):
        world.platform.notice_submit(ngo.prefix, notice("N-1", {"platform_id": "p-1"}))
    world.platform.flagger_set_state("ngo", FlaggerState.ACTIVE, reason="reinstated", actor="cli:admin")
    with world.platform.db.reading() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"flagger:register", "flagger:suspend", "flagger:reinstate"} <= actions


def test_a_notice_resolves_joins_and_gets_its_outcome_over_http(world: World) -> None:
    ngo = world.flagger("ngo", priority=70)
    hotline = world.flagger("hotline", priority=80, webhook=None)
    by_url = world.item("post-1")
    by_id = world.item("post-2")
    picture = b"benign picture a flagger holds"
    by_upload = world.item("post-3", picture)
    queued_before = world.item("post-4")
    world.platform.flagger_items = LocalPlatformItems(
        {
            "post-5": {
                "platform_item_id": "post-5",
                "kind": "post",
                "account": {"platform_id": "acct-racket", "handle": "racket"},
                "text": "benign words from the platform",
            }
        }
    )
    # an earlier notice from another flagger already put post-4 in review
    first, _ = world.platform.notice_submit(hotline.prefix, notice("H-1", {"platform_id": "post-4"}))
    shown, created = world.platform.notice_submit(
        ngo.prefix,
        notice(
            "NGO-7",
            {"url": "https://social.example/p/post-1"},
            {"platform_id": "post-2"},
            {"upload": base64.b64encode(picture).decode()},
            {"platform_id": "post-4"},
            {"platform_id": "post-5"},
            {"platform_id": "post-gone"},
            {"url": "https://elsewhere.example/x/1"},
        ),
        now=RECEIVED,
    )
    assert created and shown["state"] == "received"
    states = [(t["kind"], t["state"]) for t in shown["targets"]]  # type: ignore[union-attr, index]
    assert states == [
        ("url", "in_review"),
        ("platform_id", "in_review"),
        ("upload", "in_review"),
        ("platform_id", "in_review"),
        ("platform_id", "fetching"),
        ("platform_id", "fetching"),
        ("url", "not_found"),
    ]
    targets = shown["targets"]
    assert isinstance(targets, list) and targets[3]["joined_existing_case"] is True
    assert targets[2]["value"].startswith("sha256:")
    # the acknowledgement: the answer, and a webhook signed with the flagger's own secret
    world.work()
    acks = [r for r in world.receiver.received if json.loads(r.body)["event"] == "notice.acknowledged"]
    assert len(acks) == 1  # the hotline registered no webhook: it reads the status route
    verify_signature(ngo.secret, acks[0].headers, acks[0].body)
    assert json.loads(acks[0].body)["data"]["reference"] == "NGO-7"
    # the fetch port's stand-in: post-5 came from the platform, post-gone is not found
    again = world.platform.notice_read(ngo.prefix, int(str(shown["id"])))
    fetched = again["targets"][4]  # type: ignore[index]
    assert fetched["state"] == "in_review" and fetched["detail"] == "fetched from the platform"
    assert again["targets"][5]["state"] == "not_found"  # type: ignore[index]
    assert again["state"] == "in_review"
    # priorities: the flagger's; duplicates join one case whose priority only rises
    assert (
        case_of(world, by_url).priority == 70 and case_of(world, by_url).source == CaseSource.TRUSTED_FLAGGER
    )
    assert case_of(world, queued_before).priority == 80
    # the reviewers decide; the outcome follows
    for item, violation in (
        (by_url, ViolationCategory.CSAM),
        (by_id, ViolationCategory.BENIGN),
        (by_upload, ViolationCategory.CSAM),
        (queued_before, ViolationCategory.BENIGN),
    ):
        world.decide(case_of(world, item).id, violation)
    with world.platform.db.reading() as session:
        fetched_item = session.scalar(select(NoticeTarget.item_id).where(NoticeTarget.value == "post-5"))
    assert fetched_item is not None
    world.decide(case_of(world, fetched_item).id, ViolationCategory.CSAM)
    world.work()
    done = world.platform.notice_read(ngo.prefix, int(str(shown["id"])))
    assert done["state"] == "decided" and done["outcome"] == "confirmed"
    decided = done["targets"]
    assert isinstance(decided, list)
    assert [t["violation"] for t in decided] == ["csam", "benign", "csam", "benign", "csam", None, None]
    assert decided[0]["actions"] == ["remove"]
    outcome = [r for r in world.receiver.received if json.loads(r.body)["event"] == "notice.decided"]
    assert len(outcome) == 1
    verify_signature(ngo.secret, outcome[0].headers, outcome[0].body)
    assert json.loads(outcome[0].body)["data"]["outcome"] == "confirmed"
    # the hotline's notice about post-4 joined the same case and got the same decision
    hot = world.platform.notice_read(hotline.prefix, int(str(first["id"])))
    assert hot["outcome"] == "not_confirmed"
    with world.platform.db.reading() as session:
        unsent = session.scalars(select(FlaggerMessage.state).where(FlaggerMessage.flagger_id == 2))
        assert set(unsent) == {MessageState.NO_ENDPOINT}
    # a flagger reads only its own notices
    with pytest.raises(NotFound):
        world.platform.notice_read(hotline.prefix, int(str(shown["id"])))


def test_the_reference_makes_sending_idempotent(world: World) -> None:
    ngo = world.flagger("ngo", webhook=None)
    world.item("post-1")
    body = notice("NGO-1", {"platform_id": "post-1"})
    first, created = world.platform.notice_submit(ngo.prefix, body)
    again, created_again = world.platform.notice_submit(ngo.prefix, body)
    assert created and not created_again and first["id"] == again["id"]
    with pytest.raises(Conflict, match="other content"):
        world.platform.notice_submit(ngo.prefix, notice("NGO-1", {"platform_id": "post-2"}))


def test_a_refused_webhook_is_recorded_as_failed(world: World) -> None:
    ngo = world.flagger("ngo", webhook="/bad")
    world.platform.notice_submit(ngo.prefix, notice("NGO-1", {"platform_id": "nothing"}))
    world.work()
    with world.platform.db.reading() as session:
        states = {m.event: (m.state, m.attempts) for m in session.scalars(select(FlaggerMessage))}
    assert states["notice.acknowledged"] == (MessageState.FAILED, 1)


def test_clocks_under_a_fake_clock(world: World) -> None:
    ngo = world.flagger("ngo", webhook=None)
    item = world.item("post-1")
    grievance, _ = world.platform.notice_submit(
        ngo.prefix, notice("G-1", {"platform_id": "post-1"}), now=RECEIVED
    )
    imagery, _ = world.platform.notice_submit(
        ngo.prefix,
        notice("G-2", {"platform_id": "post-1"}, category="intimate_imagery", depicted_person_complaint=True),
        now=RECEIVED,
    )

    def clocks(shown: dict[str, object], hours: float) -> list[tuple[str, str, str]]:
        read = world.platform.notice_read(
            ngo.prefix, int(str(shown["id"])), now=RECEIVED + timedelta(hours=hours)
        )
        found = read["clocks"]
        assert isinstance(found, list)
        return [(c["step"], c["state"], c["due_at"].isoformat()) for c in found]

    # IT Rules r.3(2)(a)(i): acknowledged within 24 h (met by the answer), disposed of within 7 days
    assert clocks(grievance, 1) == [
        ("acknowledge", "met", "2026-03-02T09:00:00+00:00"),
        ("answer", "running", "2026-03-08T09:00:00+00:00"),
    ]
    assert clocks(grievance, 24 * 8)[1][1] == "overdue"
    # r.3(2)(b): a depicted person's complaint, 2 hours to act (warned at a quarter and half of it)
    assert clocks(imagery, 0.25) == [
        ("acknowledge", "met", "2026-03-01T10:00:00+00:00"),
        ("act", "running", "2026-03-01T11:00:00+00:00"),
    ]
    assert clocks(imagery, 0.75)[1][1] == "warning"
    assert clocks(imagery, 3)[1][1] == "overdue"
    # what leads look at: overdue first, then soonest; a window leaves out what is due later
    due = world.platform.notices_due(now=RECEIVED + timedelta(hours=3))
    assert [(d["reference"], d["step"], d["state"]) for d in due] == [
        ("G-2", "act", "overdue"),
        ("G-1", "answer", "running"),
    ]
    soon = world.platform.notices_due(within=timedelta(hours=24), now=RECEIVED + timedelta(hours=3))
    assert [d["reference"] for d in soon] == ["G-2"]
    world.decide(case_of(world, item).id, ViolationCategory.INTIMATE_IMAGERY)
    world.work()
    read = world.platform.notice_read(ngo.prefix, int(str(imagery["id"])), now=RECEIVED + timedelta(days=30))
    assert read["clocks"][1]["state"] in ("met", "met_late")  # type: ignore[index]


def test_accuracy_and_the_status_review_mark(world: World) -> None:
    ngo = world.flagger("ngo", webhook=None)
    for n, violation in enumerate(
        (ViolationCategory.CSAM, ViolationCategory.BENIGN, ViolationCategory.BENIGN, ViolationCategory.BENIGN)
    ):
        item = world.item(f"post-{n}")
        world.platform.notice_submit(ngo.prefix, notice(f"N-{n}", {"platform_id": f"post-{n}"}))
        world.decide(case_of(world, item).id, violation)
        world.work()
    world.platform.notice_submit(ngo.prefix, notice("N-none", {"platform_id": "missing"}))
    world.work()
    (figures,) = world.platform.flagger_figures()
    assert (figures.notices, figures.decided, figures.confirmed, figures.not_found) == (5, 4, 1, 1)
    assert figures.accuracy == 0.25 and figures.median_decision_s is not None
    shown = world.platform.flagger_show("ngo")
    assert shown["status_review"] and "1 of 3" in str(shown["status_review"])  # marked at the third
    with world.platform.db.reading() as session:
        marks = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "flagger:status_review")))
    assert len(marks) == 1 and marks[0].subject == "flagger:ngo"
    world.platform.flagger_clear_review("ngo", note="talked to them; new training", actor="cli:lead")
    assert world.platform.flagger_show("ngo")["status_review"] is None


def test_the_same_notice_sent_twice_at_once_is_received_once(world: World) -> None:
    ngo = world.flagger("ngo", webhook=None)
    world.item("post-1")
    body = notice("NGO-race", {"platform_id": "post-1"})
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: world.platform.notice_submit(ngo.prefix, body), range(4)))
    assert len({shown["id"] for shown, _ in answers}) == 1
    assert sum(created for _, created in answers) == 1


class Unreachable:
    def fetch(self, platform_item_id: str, *, target_id: int) -> None:
        raise ExternalServiceError("the platform's item endpoint answered HTTP 503")


def test_a_platform_that_cannot_be_asked_leaves_no_notice_waiting(world: World) -> None:
    ngo = world.flagger("ngo", webhook=None)
    world.platform.flagger_items = Unreachable()
    shown, _ = world.platform.notice_submit(ngo.prefix, notice("N-1", {"platform_id": "post-9"}))
    world.work()  # retried up to job_max_attempts, then settled
    read = world.platform.notice_read(ngo.prefix, int(str(shown["id"])))
    (target,) = read["targets"]  # type: ignore[misc]
    assert target["state"] == "not_found" and "could not be asked" in target["detail"]
    assert read["state"] == "decided" and read["outcome"] == "not_found"


def test_an_item_too_big_to_take_in_is_not_found_saying_why(world: World) -> None:
    ngo = world.flagger("ngo", webhook=None)
    world.platform.settings = Settings.load({**world.platform.settings.values, "media_max_bytes": 64})
    big = base64.b64encode(b"benign bytes " * 20).decode()
    world.platform.flagger_items = LocalPlatformItems(
        {
            "post-9": {
                "platform_item_id": "post-9",
                "kind": "post",
                "account": {"platform_id": "a"},
                "media": [{"data": big}],
            }
        }
    )
    shown, _ = world.platform.notice_submit(ngo.prefix, notice("N-1", {"platform_id": "post-9"}))
    world.work()
    read = world.platform.notice_read(ngo.prefix, int(str(shown["id"])))
    (target,) = read["targets"]  # type: ignore[misc]
    assert target["state"] == "not_found" and "could not be taken in" in target["detail"]
