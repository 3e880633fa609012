"""The legal desk's API over HTTP: a platform forwards a police request from its portal (safe to
retry), reads it back with its clocks, and lists what is due; only a key with the legal role may."""

from __future__ import annotations

from fastapi.testclient import TestClient

from suraksha.access.services import create_api_key
from suraksha.app import Platform
from suraksha.content.models import Account
from tests.functional.web.conftest import Keys

POLICE_REQUEST = {
    "external_id": "portal-2022-0042",
    "kind": "data_disclosure",
    "jurisdiction": "IN-DL",
    "received_at": "2022-09-20T10:00:00+05:30",
    "reference": "FIR 123/2022",
    "legal_basis": "IT Rules r.3(1)(j)",
    "authority": {
        "agency": "Delhi Police, IFSO",
        "jurisdiction": "IN-DL",
        "officer": "A. Officer",
        "rank": "ACP",
    },
    "scope": [{"kind": "account", "value": "@seller_one"}, {"kind": "account", "value": "@gone"}],
}


def legal_key(platform: Platform) -> dict[str, str]:
    with platform.db.session() as session:
        session.add(Account(platform_account_id="acct-1", handle="@seller_one"))
        _, key = create_api_key(session, "portal", ["legal"])
    return {"Authorization": f"Bearer {key}"}


def test_forward_read_and_list_due(client: TestClient, platform: Platform) -> None:
    headers = legal_key(platform)
    first = client.post("/api/v1/legal/requests", json=POLICE_REQUEST, headers=headers)
    assert first.status_code == 201, first.text
    shown = first.json()
    assert first.headers["Location"] == f"/api/v1/legal/requests/{shown['id']}"
    assert shown["authority"]["agency"] == "Delhi Police, IFSO" and shown["state"] == "received"
    assert [bool(s["account_id"]) for s in shown["scope"]] == [True, False]
    assert shown["clocks"][0]["due_at"] == "2022-09-23T04:30:00Z"

    again = client.post("/api/v1/legal/requests", json=POLICE_REQUEST, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == shown["id"]
    changed = client.post(
        "/api/v1/legal/requests", json={**POLICE_REQUEST, "kind": "court_order"}, headers=headers
    )
    assert changed.status_code == 409

    read = client.get(f"/api/v1/legal/requests/{shown['id']}", headers=headers)
    assert read.status_code == 200 and read.json()["reference"] == "FIR 123/2022"
    due = client.get("/api/v1/legal/due", headers=headers).json()
    assert [(d["request_id"], d["state"]) for d in due] == [(shown["id"], "overdue")]


def test_only_a_legal_key_and_well_formed_requests(
    client: TestClient, platform: Platform, keys: Keys
) -> None:
    headers = legal_key(platform)
    for role in ("ingest", "read"):
        assert (
            client.post("/api/v1/legal/requests", json=POLICE_REQUEST, headers=keys.header(role)).status_code
            == 403
        )
        assert client.get("/api/v1/legal/due", headers=keys.header(role)).status_code == 403
    assert client.get("/api/v1/legal/due").status_code == 401
    bad = [
        {**POLICE_REQUEST, "received_at": "2022-09-20T10:00:00"},  # no offset
        {**POLICE_REQUEST, "kind": "rumour"},
        {**POLICE_REQUEST, "jurisdiction": "FR"},  # no deadlines configured there
        {**POLICE_REQUEST, "surprise": 1},
    ]
    for body in bad:
        answer = client.post("/api/v1/legal/requests", json=body, headers=headers)
        assert 400 <= answer.status_code < 500, (body, answer.text)
    assert client.get("/api/v1/legal/requests/99999999999999999999", headers=headers).status_code == 422
    assert client.get("/api/v1/legal/requests/4242", headers=headers).status_code == 404
    assert client.get("/api/v1/legal/due?within=soon", headers=headers).status_code in {400, 422}
    assert client.get("/api/v1/legal/due", headers=headers).json() == []
