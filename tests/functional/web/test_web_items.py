"""The integration API over HTTP: submit items, read their state, check uploads, poll the action feed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.app import Platform
from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory
from suraksha.content.models import Item
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from suraksha.web.routes.items import INLINE_BODY_BYTES
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.functional.web.conftest import Keys, web_state

CSAM_SEED = 31


def body(platform_id: str, *media: bytes, text: str = "hello", **extra: object) -> dict[str, object]:
    return {
        "platform_item_id": platform_id,
        "kind": "post",
        "account": {"platform_id": "acct-1", "handle": "@one", "bio": "pay via UPI demo.seller9@okaxis"},
        "text": text,
        "media": [{"data": base64.b64encode(m).decode(), "content_type": "image/jpeg"} for m in media],
        **extra,
    }


def drain(client: TestClient, platform: Platform) -> None:
    index = web_state(client.app).index  # type: ignore[arg-type]
    index.refresh()
    run_worker(
        platform.db,
        platform.job_handlers(index),
        config=WorkerConfig(poll_interval_s=0.05),
        until_drained=True,
        install_signal_handlers=False,
    )


def csam_bank(platform: Platform) -> None:
    signals = hash_bytes(synthetic_jpeg(CSAM_SEED))
    assert signals.pdq is not None
    with platform.db.session() as session:
        bank = banks.create_bank(session, "csam-list", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)


def items_in(platform: Platform) -> int:
    with platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Item)) or 0)


def test_submit_process_and_read(client: TestClient, keys: Keys, platform: Platform) -> None:
    csam_bank(platform)
    ingest = keys.header("ingest")
    answer = client.post(
        "/api/v1/items", json=body("p-1", synthetic_jpeg(CSAM_SEED, 500, 375)), headers=ingest
    )
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["created"] and accepted["state"] == "queued"
    assert answer.headers["Location"] == accepted["status_url"]
    again = client.post(
        "/api/v1/items", json=body("p-1", synthetic_jpeg(CSAM_SEED, 500, 375)), headers=ingest
    )
    assert again.status_code == 202 and again.json()["id"] == accepted["id"] and not again.json()["created"]
    conflict = client.post("/api/v1/items", json=body("p-1", text="changed"), headers=ingest)
    assert conflict.status_code == 409 and "different payload" in conflict.json()["detail"]

    drain(client, platform)
    status = client.get(f"/api/v1/items/{accepted['id']}", headers=ingest).json()
    assert status["state"] == "actioned"
    assert status["media"][0]["matches"][0]["bank"] == "csam-list"
    assert status["decisions"][0]["verdict"] == "violation"
    assert {"kind": "upi_id", "value": "demo.seller9@okaxis", "field": "bio"} in status["entities"]

    feed = client.get("/api/v1/actions", headers=ingest).json()
    assert [a["kind"] for a in feed["actions"]] == ["remove", "suspend"]
    assert feed["actions"][0]["item_id"] == "p-1" and feed["actions"][1]["target"] == "account"
    later = client.get(f"/api/v1/actions?after={feed['next_after']}", headers=ingest).json()
    assert later == {"actions": [], "next_after": feed["next_after"]}


def test_text_rules_send_items_to_review(client: TestClient, keys: Keys, platform: Platform) -> None:
    answer = client.post(
        "/api/v1/items",
        json=body("p-2", text="DM for price, join my telegram"),
        headers=keys.header("ingest"),
    )
    drain(client, platform)
    status = client.get(f"/api/v1/items/{answer.json()['id']}", headers=keys.header("ingest")).json()
    assert status["decisions"][0]["verdict"] == "review"
    assert status["rule_hits"] and all(h["version"] for h in status["rule_hits"])


def test_check_answers_inline_and_stores_only_matches(
    client: TestClient, keys: Keys, platform: Platform
) -> None:
    csam_bank(platform)
    web_state(client.app).index.refresh()  # type: ignore[arg-type]
    ingest = keys.header("ingest")
    clean = client.post("/api/v1/check", json=body("c-1", synthetic_jpeg(77)), headers=ingest)
    assert clean.status_code == 200 and clean.json()["verdict"] == "no_match"
    assert items_in(platform) == 0
    broken = client.post("/api/v1/check", json=body("c-2", synthetic_jpeg(77)[:400]), headers=ingest)
    assert broken.json()["verdict"] == "not_checked"
    hit = client.post("/api/v1/check", json=body("c-3", synthetic_jpeg(CSAM_SEED, 480, 360)), headers=ingest)
    assert hit.json()["verdict"] == "match" and hit.json()["item_id"]
    assert items_in(platform) == 1
    url = client.post(
        "/api/v1/check", json={**body("c-4"), "media": [{"url": "https://example.org/a.jpg"}]}, headers=ingest
    )
    assert url.status_code == 400 and "uploaded bytes only" in url.json()["detail"]


def test_bad_payloads_change_nothing(client: TestClient, keys: Keys, platform: Platform) -> None:
    ingest = keys.header("ingest")
    bad = [
        {**body("b-1"), "surprise": 1},
        {**body("b-2"), "kind": "novel"},
        {**body("b-3"), "media": [{"data": "not base64!"}]},
        {**body("b-4"), "media": [{"data": "aGk=", "url": "https://example.org/x.jpg"}]},
        {**body("b-5"), "media": [{"url": "file:///etc/passwd"}]},
        {**body("b-6"), "upload_ip": "999.1.1.1"},
        {**body(""), "platform_item_id": ""},
    ]
    for payload in bad:
        answer = client.post("/api/v1/items", json=payload, headers=ingest)
        assert answer.status_code == 422, (payload, answer.text)
    assert (
        client.post(
            "/api/v1/items", content=b"{", headers={**ingest, "Content-Type": "application/json"}
        ).status_code
        == 422
    )
    as_text = client.post(
        "/api/v1/items", content=json.dumps(body("b-9")), headers={**ingest, "Content-Type": "text/plain"}
    )
    assert as_text.status_code == 422 and "application/json" in as_text.json()["detail"]
    empty = client.post("/api/v1/items", content=b"", headers={**ingest, "Content-Type": "application/json"})
    assert empty.status_code == 422
    assert client.post("/api/v1/items", json=body("b-7"), headers=keys.header("read")).status_code == 403
    assert client.post("/api/v1/items", json=body("b-8")).status_code == 401
    assert client.get("/api/v1/items/999999", headers=ingest).status_code == 404
    assert client.get(f"/api/v1/items/{2**63}", headers=ingest).status_code == 422  # beyond 64 bits
    assert client.get(f"/api/v1/actions?after={2**63}", headers=ingest).status_code == 422
    assert items_in(platform) == 0


def test_large_bodies_are_prepared_off_the_event_loop_alike(
    client: TestClient, keys: Keys, platform: Platform
) -> None:
    """A body over INLINE_BODY_BYTES goes through the thread pool: the same answers, the same checks."""
    ingest = keys.header("ingest")
    padded = body("big-1", *(synthetic_jpeg(seed, 1200, 900, quality=98) for seed in (7, 8, 9, 10)))
    assert len(json.dumps(padded)) > INLINE_BODY_BYTES
    answer = client.post("/api/v1/items", json=padded, headers=ingest)
    assert answer.status_code == 202, answer.text
    again = client.post("/api/v1/items", json=padded, headers=ingest)
    assert again.status_code == 202 and again.json()["id"] == answer.json()["id"]
    broken = {**padded, "platform_item_id": "big-2", "media": [{"data": "!" * INLINE_BODY_BYTES}]}
    assert client.post("/api/v1/items", json=broken, headers=ingest).status_code == 422
    assert items_in(platform) == 1


def test_read_only_switch_refuses_writes(client: TestClient, keys: Keys, platform: Platform) -> None:
    csam_bank(platform)
    web_state(client.app).index.refresh()  # type: ignore[arg-type]
    with platform.db.session() as session:
        set_switch(session, KillSwitch.READ_ONLY, True, by="lead", reason="incident drill")
    refused = client.post("/api/v1/items", json=body("ro-1"), headers=keys.header("ingest"))
    assert refused.status_code == 503 and "read-only" in refused.json()["detail"]
    assert client.post("/c/banks", json={"name": "new-bank"}, headers=keys.header("admin")).status_code == 503
    hit = client.post(
        "/api/v1/check", json=body("ro-2", synthetic_jpeg(CSAM_SEED)), headers=keys.header("ingest")
    )
    assert hit.json()["verdict"] == "match" and hit.json()["item_id"] is None  # answered, not recorded
    assert items_in(platform) == 0
    with platform.db.session() as session:
        set_switch(session, KillSwitch.READ_ONLY, False, by="lead")
    assert client.post("/api/v1/items", json=body("ro-1"), headers=keys.header("ingest")).status_code == 202


def test_queue_depth_is_a_metric(client: TestClient, keys: Keys) -> None:
    client.post("/api/v1/items", json=body("m-1", text="plain"), headers=keys.header("ingest"))
    text = client.get("/metrics", headers=keys.header("read")).text
    assert 'suraksha_jobs{kind="item.process",state="queued"} 1.0' in text
    assert "suraksha_jobs_due 1.0" in text


def test_platform_worker_threads_process_items_then_stop(
    client: TestClient, keys: Keys, platform: Platform
) -> None:
    """`suraksha serve` runs its workers through Platform.worker_threads: the same handlers and settings
    as `suraksha worker`, stopped (a job in hand finished first) when the block ends."""
    import threading
    import time

    answer = client.post(
        "/api/v1/items", json=body("p-threads", synthetic_jpeg(5)), headers=keys.header("ingest")
    )
    assert answer.status_code == 202, answer.text
    index = web_state(client.app).index  # type: ignore[arg-type]
    with platform.worker_threads(index, 2):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = client.get(f"/api/v1/items/{answer.json()['id']}", headers=keys.header("ingest")).json()
            if state["state"] not in {"queued", "processing"}:
                break
            time.sleep(0.05)
        assert state["state"] not in {"queued", "processing"}, state
        workers = [t for t in threading.enumerate() if t.name.startswith("serve-worker-")]
        assert len(workers) == 2
    assert not [t for t in workers if t.is_alive()]


def test_an_item_is_read_by_the_platforms_own_id_or_url(
    make_platform: Callable[..., Platform], platform: Platform, keys: Keys
) -> None:
    """GET /items?ref= takes the platform's item id, its post URL or ``#id``; /items/{id} stays."""
    named = make_platform(platform_item_url="https://social.example/p/{item_id}")
    application = create_app(named, start_index=False)
    with TestClient(application) as client:
        ingest = keys.header("ingest")
        own = client.post("/api/v1/items", json=body("post-77"), headers=ingest).json()["id"]
        for ref in ("post-77", f"#{own}", "https://social.example/p/post-77"):
            found = client.get("/api/v1/items", params={"ref": ref}, headers=ingest)
            assert found.status_code == 200, found.text
            assert found.json()["id"] == own and found.json()["platform_item_id"] == "post-77"
        assert client.get(f"/api/v1/items/{own}", headers=ingest).json()["platform_item_id"] == "post-77"
        missing = client.get("/api/v1/items", params={"ref": "post-78"}, headers=ingest)
        assert missing.status_code == 404 and "post URL or #id" in missing.json()["detail"]
        assert (
            client.get("/api/v1/items", params={"ref": "post-77"}, headers=keys.header("read")).status_code
            == 403
        )
