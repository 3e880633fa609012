"""Reveals: permission per category (refusals audited and committed), the daily exposure budget,
human views recorded with their audit rows, exposure summaries and display preferences."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from suraksha.audit import AuditAction, AuditEvent, verify
from suraksha.errors import Forbidden
from suraksha.review import reveals
from suraksha.review import services as review
from suraksha.review.models import HumanView

from .conftest import ReviewWorld


def _audit(world: ReviewWorld, action: str) -> list[AuditEvent]:
    with world.db.reading() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_reveal_records_a_human_view_and_an_audit_row(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    seeded = world.item(rule_category="solicitation")
    ria = world.user("ria", "reviewer")
    view = reveals.reveal_media(world.db, seeded.media_ids[0], ria, options, exif=True)
    assert view.category == "solicitation" and view.exif_viewed and view.case_id is not None
    with world.db.reading() as s:
        [stored] = reveals.views_of_media(s, seeded.media_ids[0])
        assert stored.user_id == ria.id
        assert verify(s).ok
    [event] = _audit(world, AuditAction.MEDIA_REVEAL)
    assert event.actor == "user:r-ria" and event.subject == f"media:{seeded.media_ids[0]}"
    assert json.loads(event.details)["view"] == view.id


def test_csam_media_needs_the_csam_permission(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(bank_category="csam")
    ria = world.user("ria", "reviewer")
    cas = world.user("cas", "child_safety_reviewer")
    admin = world.user("adm", "admin")
    for refused in (ria, admin):
        with pytest.raises(Forbidden):
            reveals.reveal_media(world.db, seeded.media_ids[0], refused, options)
    refusals = _audit(world, review.ReviewAudit.REVEAL_REFUSED)
    assert [e.actor for e in refusals] == ["user:r-ria", "user:r-adm"]  # committed despite the error
    with world.db.reading() as s:
        assert reveals.views_of_media(s, seeded.media_ids[0]) == []
    assert reveals.reveal_media(world.db, seeded.media_ids[0], cas, options).category == "csam"


def test_exposure_budget_stops_reveals_and_serving(world: ReviewWorld, options: review.ReviewOptions) -> None:
    cas = world.user("cas", "child_safety_reviewer")
    items = [world.item(bank_category="csam") for _ in range(4)]
    for seeded in items[:3]:  # the csam budget in these options is 3 a day
        reveals.reveal_media(world.db, seeded.media_ids[0], cas, options)
    with pytest.raises(review.ExposureBudgetSpent, match="take a break"):
        reveals.reveal_media(world.db, items[3].media_ids[0], cas, options)
    with world.db.reading() as s:
        assert [c for c in review.list_queue(s, reviewer=cas, options=options) if c.category == "csam"] == []
        [row] = reveals.exposure_summary(s, options)
        assert (row.pseudonym, row.category, row.reveals, row.budget, row.remaining) == (
            "r-cas",
            "csam",
            3,
            3,
            0,
        )
        case_id = review.list_queue(s, category="csam")[0].id
    with world.db.session() as s, pytest.raises(review.ExposureBudgetSpent):
        review.claim(s, case_id, cas, options)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    view = reveals.reveal_media(world.db, items[3].media_ids[0], cas, options, now=tomorrow)
    assert view.id is not None
    with world.db.reading() as s:
        assert len(list(s.scalars(select(HumanView)))) == 4


def test_display_preferences_override_the_organisation_default(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    ria = world.user("ria", "reviewer")
    with world.db.session() as s:
        assert reveals.display_for(s, ria, options) == reveals.Display(blur=True, greyscale=True)
        reveals.set_display(s, ria, blur=False, greyscale=None)
    with world.db.reading() as s:
        assert reveals.display_for(s, ria, options) == reveals.Display(blur=False, greyscale=True)


def test_minutes_budget(world: ReviewWorld) -> None:
    options = review.ReviewOptions(exposure_minutes={"*": 10})
    ria = world.user("ria", "reviewer")
    first, second = world.item(rule_category="solicitation"), world.item(rule_category="solicitation")
    start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    view = reveals.reveal_media(world.db, first.media_ids[0], ria, options, now=start)
    with world.db.session() as s:
        assert reveals.end_reveal(s, view.id, ria, now=start + timedelta(minutes=4)).seconds == 240
    with world.db.session() as s:  # a second end changes nothing
        assert reveals.end_reveal(s, view.id, ria, now=start + timedelta(minutes=30)).seconds == 240
    reveals.reveal_media(world.db, second.media_ids[0], ria, options, now=start + timedelta(minutes=5))
    later = start + timedelta(minutes=12)  # the second reveal, never ended, counts 7 minutes by now
    with pytest.raises(review.ExposureBudgetSpent, match="10 minutes"):
        reveals.reveal_media(world.db, second.media_ids[0], ria, options, now=later)
    with world.db.reading() as s:
        [row] = reveals.exposure_summary(s, options, now=later)
        assert (row.reveals, row.minutes, row.minutes_budget) == (2, 11.0, 10)
        assert review.list_queue(s, reviewer=ria, options=options, now=later) == []
