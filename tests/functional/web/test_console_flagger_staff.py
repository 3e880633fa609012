"""A trusted flagger's staff in the console over HTTP, on SQLite and PostgreSQL: a console user linked to
a flagger (role ``flagger``) signs in, lands on the organisation's notices, sends a notice through the
form (CSRF-checked, the API's path: same review case, same audit, same duplicate rule), reads its page
(what each thing resolved to, the outcome once decided), never another flagger's notices, and is refused
every other route of the console (a walk over every route the app has)."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from suraksha.access import users
from suraksha.access.models import ConsoleSession
from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import ActionKind
from suraksha.errors import InvalidInput
from suraksha.flaggers.models import Notice
from suraksha.flaggers.registry import NewFlagger
from suraksha.flaggers.schemas import NoticeIn
from suraksha.outbound.webhooks import WebhookSender
from suraksha.review import services as review
from suraksha.review.decisions import CASE_DECIDED, ReviewChoice, decide
from suraksha.review.models import ReviewCase, ViolationCategory
from suraksha.web import console
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    PASSWORD,
    _cheap_hashing,
    audit_rows,
    console_platform,
    signed_in,
    web,
)

STAFF = "desk@ngo.example"
OTHER_STAFF = "desk@hotline.example"
HOME = "/console/flagger/notices"
OPEN = {
    "/console/",  # sends them home
    "/console/account",
    "/console/account/totp/start",
    "/console/account/totp",
    "/console/account/totp/off",
    "/console/sign-out",
    HOME,
    f"{HOME}/new",
    f"{HOME}/{{notice_id}}",
}
"""The console routes a flagger's staff may open; every other refuses them."""
PUBLIC = {"/console", "/console/sign-in", "/console/sign-in/code", "/console/static/{path}"}
"""Console routes anyone reaches (they sign in, or redirect)."""


def register(platform: Platform, name: str, organisation: str) -> str:
    shown = platform.flagger_add(
        NewFlagger(name=name, organisation=organisation, country="IN", designation="partner"), actor="test"
    )
    return str(shown["api_key"]).split("_")[1]


def staff_of(platform: Platform, name: str, email: str) -> None:
    with platform.db.session() as session:
        users.create_user(session, email, ["flagger"], PASSWORD, by="test")
    platform.flagger_add_user(name, email, actor="cli:admin")


def post(platform: Platform, platform_id: str) -> int:
    with platform.db.session() as session:
        account = Account(platform_account_id=f"acct-{platform_id}", handle=f"h{platform_id}")
        session.add(account)
        session.flush()
        item = Item(platform_item_id=platform_id, payload_digest="0" * 64, kind="post", account_id=account.id)
        session.add(item)
        session.flush()
        return item.id


@pytest.fixture
def two_flaggers(console_platform: Platform) -> dict[str, str]:
    keys = {
        "ngo": register(console_platform, "ngo", "Child Rights Foundation"),
        "hotline": register(console_platform, "hotline", "A Hotline"),
    }
    staff_of(console_platform, "ngo", STAFF)
    staff_of(console_platform, "hotline", OTHER_STAFF)
    return keys


def form(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "reference": "CRF-2026-1",
        "category": "sale_or_solicitation",
        "explanation": "Sells sets of pictures for UPI payments (benign test data).",
        "targets": "post-1\nhttps://elsewhere.example/p/9\n",
        "csrf_token": csrf,
        **fields,
    }


def test_staff_land_on_their_notices_and_send_one(
    web: TestClient, console_platform: Platform, two_flaggers: dict[str, str]
) -> None:
    item_id = post(console_platform, "post-1")
    csrf = signed_in(web, STAFF)
    home = web.get("/console/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == HOME
    page = web.get(HOME)
    assert page.status_code == 200 and "Child Rights Foundation" in page.text
    assert "No notices sent yet" in page.text
    nav = page.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="([^"]+)"', nav) == [HOME]  # nothing else of the console is offered
    assert 'action="/console/find"' not in page.text

    assert web.get(f"{HOME}/new").status_code == 200
    assert web.post(HOME, data=form("forged")).status_code == 403  # CSRF
    sent = web.post(HOME, data=form(csrf), follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith("?done=sent")
    shown = web.get(sent.headers["location"])
    assert shown.status_code == 200
    targets = shown.text.split('id="notice-targets"', 1)[1].split("</table>", 1)[0]
    assert "post-1" in targets and "in review" in targets
    assert "not found" in targets  # the other site's URL, saying why
    assert "IT Rules r.3(2)(a)(i)" in shown.text  # the clock's rule

    # The API's path: the item is in review at the flagger's priority, the audit row names the user.
    with console_platform.db.reading() as session:
        case = session.scalar(select(ReviewCase).where(ReviewCase.item_id == item_id))
        assert case is not None and case.source == "trusted_flagger"
        notice = session.scalars(select(Notice)).one()
    (row,) = audit_rows(console_platform, "flagger:notice")
    assert row.actor.startswith("user:r-") and row.subject == f"notice:{notice.id}"

    again = web.post(HOME, data=form(csrf), follow_redirects=False)  # the same reference, same content
    assert again.status_code == 303 and again.headers["location"].endswith(
        f"/{notice.id}?done=already_received"
    )
    changed = web.post(HOME, data=form(csrf, explanation="Something else entirely."))
    assert changed.status_code == 409 and "other content" in changed.text
    listed = web.get(HOME).text
    assert f'id="notice-{notice.id}"' in listed and "CRF-2026-1" in listed


def test_bad_forms_change_nothing(
    web: TestClient, console_platform: Platform, two_flaggers: dict[str, str]
) -> None:
    csrf = signed_in(web, STAFF)
    cases = [
        form(csrf, targets="  \n "),
        form(csrf, category="not-a-category"),
        form(csrf, explanation=""),
        form(csrf, reference=""),
        form(csrf, targets="\n".join(f"p-{n}" for n in range(51))),
        form(csrf, depicted_person_complaint="true"),  # only with intimate_imagery
    ]
    for data in cases:
        refused = web.post(HOME, data=data)
        assert refused.status_code == 422, data
        assert "Nothing was sent" in refused.text
    with console_platform.db.reading() as session:
        assert session.scalars(select(Notice)).all() == []


def test_the_outcome_shows_and_other_flaggers_notices_do_not(
    web: TestClient, console_platform: Platform, two_flaggers: dict[str, str]
) -> None:
    post(console_platform, "post-7")
    body = {
        "reference": "HL-1",
        "category": "csam",
        "explanation": "Benign test notice.",
        "targets": [{"platform_id": "post-7"}],
    }
    theirs, _ = console_platform.notice_submit(two_flaggers["hotline"], NoticeIn.model_validate(body))
    ours, _ = console_platform.notice_submit(
        two_flaggers["ngo"], NoticeIn.model_validate({**body, "reference": "N-1"})
    )
    signed_in(web, STAFF)
    assert web.get(f"{HOME}/{theirs['id']}").status_code == 404
    assert "HL-1" not in web.get(HOME).text
    # A reviewer decides: the outcome reaches the notice's page (through the review.case_decided job).
    with console_platform.db.session() as session:
        case_id = session.scalars(select(ReviewCase.id)).one()
        reviewer = users.create_user(
            session, "rev@example.org", ["child_safety_reviewer"], PASSWORD, by="test"
        )
        options = console_platform.review_options
        review.claim(session, case_id, reviewer, options)
        choice = ReviewChoice(violation=ViolationCategory.SALE_OR_SOLICITATION, actions=(ActionKind.REMOVE,))
        decide(session, case_id, reviewer, choice, options)
    run_worker(
        console_platform.db,
        console_platform.job_handlers(console_platform.bank_index(), sender=WebhookSender()),
        kinds=[CASE_DECIDED],
        config=WorkerConfig.from_settings(console_platform.settings),
        until_drained=True,
        install_signal_handlers=False,
    )
    page = web.get(f"{HOME}/{ours['id']}")
    assert page.status_code == 200 and "N-1" in page.text
    assert "confirmed" in page.text.split('id="notice-outcome"', 1)[1].split("</dd>", 1)[0]
    targets = page.text.split('id="notice-targets"', 1)[1].split("</table>", 1)[0]
    assert "sale or solicitation" in targets and "remove" in targets
    listed = web.get(HOME).text.split(f'id="notice-{ours["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "confirmed" in listed and "met" in listed  # the outcome and the decision clock, met
    # The other flagger's staff see theirs, and not ours.
    web.cookies.clear()
    signed_in(web, OTHER_STAFF)
    assert web.get(f"{HOME}/{ours['id']}").status_code == 404
    assert "HL-1" in web.get(HOME).text


def test_every_other_console_route_refuses_them(
    web: TestClient, console_platform: Platform, two_flaggers: dict[str, str]
) -> None:
    csrf = signed_in(web, STAFF)
    routes = [r for router in console.ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 50
    marked = {r.path for r in routes if getattr(r.endpoint, "_console_open_to_flaggers", False)}
    assert marked == OPEN  # opening another route to them is a decision this test must be told of
    checked = 0
    for route in routes:
        if route.path in OPEN or route.path in PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            answer = web.request(method, path, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
            assert answer.status_code == 403, (method, route.path, answer.status_code)
            assert "own notices only" in answer.text, (method, route.path)
            checked += 1
    assert checked > 50
    # The API does not take the console's cookie.
    assert web.get("/api/v1/items/1").status_code == 401


def test_unlinked_or_mixed_accounts(
    web: TestClient, console_platform: Platform, two_flaggers: dict[str, str]
) -> None:
    with console_platform.db.session() as session:
        with pytest.raises(InvalidInput, match="goes alone"):
            users.create_user(session, "both@ngo.example", ["flagger", "reviewer"], PASSWORD, by="test")
        users.create_user(session, "new@ngo.example", ["flagger"], PASSWORD, by="test")
    signed_in(web, "new@ngo.example")
    page = web.get(HOME)
    assert page.status_code == 403 and "belongs to no trusted flagger" in page.text
    assert web.get("/console/queues").status_code == 403

    web.cookies.clear()
    signed_in(web, STAFF)
    assert web.get(HOME).status_code == 200
    console_platform.flagger_remove_user("ngo", STAFF, actor="cli:admin")
    with console_platform.db.reading() as session:
        user_id = users.get_user(session, STAFF).id
        live = select(ConsoleSession).where(
            ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None)
        )
        assert session.scalars(live).all() == []  # unlinking ended their sessions
    gone = web.get(HOME, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/console/sign-in")
