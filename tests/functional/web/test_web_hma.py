"""The HMA-compatible routes, with HMA's request and response shapes, over benign synthetic pictures.

The bank ``known`` holds the PDQ and MD5 of synthetic pictures 1 and 2 (see conftest)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.banks import services as banks
from suraksha.banks.models import BankEntry
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.pdq import PdqHash
from suraksha.testing.synthetic import encode, synthetic_image, synthetic_jpeg, write_synthetic_video
from suraksha.web.app import create_app

from .conftest import Keys, bank_names, entry_count, web_state


def pdq_of(data: bytes) -> PdqHash:
    pdq = hash_bytes(data).pdq
    assert pdq is not None
    return pdq


KNOWN = synthetic_jpeg(1)
KNOWN_PDQ = pdq_of(KNOWN)
SIMILAR = encode(synthetic_image(1).resize((320, 240)), "JPEG", quality=60)  # same picture, smaller
OTHER = synthetic_jpeg(3)
FLAT = encode(synthetic_image(1).convert("L").point(lambda _: 128), "PNG")  # one grey: too flat for PDQ


def upload(field: str, data: bytes, name: str = "file.jpg") -> dict[str, tuple[str, bytes, str]]:
    return {field: (name, data, "application/octet-stream")}


# -- /h/hash ------------------------------------------------------------------------------------------


def test_hash_upload(client: TestClient, keys: Keys) -> None:
    response = client.post("/h/hash", files=upload("photo", KNOWN), headers=keys.header("read"))
    assert response.status_code == 200
    expected = hash_bytes(KNOWN)
    assert response.json() == {"pdq": KNOWN_PDQ.hex, "md5": expected.md5, "sha256": expected.sha256}
    only = client.post("/h/hash?types=pdq", files=upload("photo", KNOWN), headers=keys.header("read"))
    assert only.json() == {"pdq": KNOWN_PDQ.hex}


def test_hash_video(client: TestClient, keys: Keys, tmp_path: Path) -> None:
    video = write_synthetic_video(tmp_path / "clip.mp4", 7, seconds=2.0).read_bytes()
    response = client.post("/h/hash", files=upload("video", video, "clip.mp4"), headers=keys.header("read"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"vpdq", "video_md5", "sha256"}  # a video's MD5 is named as HMA names it
    assert len(body["vpdq"].splitlines()) >= 2 and body["vpdq"].count(",") >= 6
    added = client.post(
        "/c/bank/known/signal", json={"video_md5": body["video_md5"]}, headers=keys.header("admin")
    )
    assert added.status_code == 200 and set(added.json()["signals"]) == {"video_md5"}
    status = client.get("/m/index/status?signal_type=video_md5", headers=keys.header("read")).json()
    assert set(status) == {"video_md5"}


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        (upload("document", KNOWN), None, 400, "no such content_type"),
        (upload("video", KNOWN), None, 400, "is a image: send it as photo"),
        ({**upload("photo", KNOWN), **upload("video", OTHER)}, None, 400, "Only one file"),
        (None, {"photo": "not a file"}, 400, "multipart/form-data"),
        (upload("photo", b"this is not a picture"), None, 422, "could not hash the photo"),
    ],
)
def test_hash_bad_uploads(
    client: TestClient, keys: Keys, files: object, data: object, status: int, message: str
) -> None:
    response = client.post("/h/hash", files=files, data=data, headers=keys.header("read"))  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert message in response.json()["detail"] and response.json()["message"] == response.json()["detail"]


def test_hash_wrong_content_type(client: TestClient, keys: Keys) -> None:
    response = client.post("/h/hash", json={"photo": "x"}, headers=keys.header("read"))
    assert response.status_code == 400 and "multipart/form-data" in response.json()["detail"]
    bad_types = client.post("/h/hash?types=vpdq", files=upload("photo", KNOWN), headers=keys.header("read"))
    assert bad_types.status_code == 400 and "not produced for photo" in bad_types.json()["detail"]


@pytest.fixture
def media_server(tmp_path: Path) -> Iterator[str]:
    """A local web server with one picture: fetched only by a fetcher that allows loopback."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "known.jpg").write_bytes(KNOWN)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path / "www"), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_hash_and_lookup_by_url(platform: Platform, keys: Keys, media_server: str) -> None:
    port = int(media_server.rsplit(":", 1)[1])
    fetcher = MediaFetcher(
        FetchPolicy(allowed_ports=frozenset({port})), allow_loopback_ports_for_testing=[port]
    )
    app = create_app(platform, fetcher=fetcher, start_index=False)
    web_state(app).load_index()
    with TestClient(app) as client:
        url = f"{media_server}/known.jpg"
        hashed = client.get("/h/hash", params={"url": url}, headers=keys.header("read"))
        assert hashed.status_code == 200 and hashed.json()["pdq"] == KNOWN_PDQ.hex
        found = client.get("/m/lookup", params={"url": url}, headers=keys.header("read")).json()
        assert found["pdq"]["known"][0]["distance"] == "0" and "known" in found["md5"]
        pdq_only = client.get(
            "/m/lookup", params={"url": url, "signal_type": "pdq"}, headers=keys.header("read")
        ).json()
        assert set(pdq_only) == {"known"}
        missing = client.get(
            "/h/hash", params={"url": f"{media_server}/nope.jpg"}, headers=keys.header("read")
        )
        assert missing.status_code == 502 and "http_error" in missing.json()["detail"]


def test_urls_into_our_network_are_refused(client: TestClient, keys: Keys, media_server: str) -> None:
    """The default fetcher refuses loopback and private addresses (no SSRF): 400, nothing fetched."""
    for url in (f"{media_server}/known.jpg", "http://10.0.0.1/x.jpg", "file:///etc/passwd"):
        response = client.get("/h/hash", params={"url": url}, headers=keys.header("read"))
        assert response.status_code == 400, (url, response.text)
        assert "unsafe URL" in response.json()["detail"]


# -- /m ---------------------------------------------------------------------------------------------


def test_raw_lookup(client: TestClient, keys: Keys) -> None:
    read = keys.header("read")
    ids = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": KNOWN_PDQ.hex}, headers=read)
    assert ids.status_code == 200 and ids.json() == {"matches": [1]}
    with_distance = client.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": KNOWN_PDQ.hex, "include_distance": "true"},
        headers=read,
    )
    assert with_distance.json() == {"matches": [{"bank_content_id": 1, "distance": "0"}]}
    md5 = hash_bytes(KNOWN).md5
    assert client.get(
        "/m/raw_lookup", params={"signal_type": "video_md5", "signal": md5}, headers=read
    ).json() == {"matches": [2]}


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"signal_type": "pdq"}, 400, "signal is required"),
        ({"signal": "ab"}, 400, "signal_type is required"),
        ({"signal_type": "pdq", "signal": "xyz"}, 400, "invalid pdq signal"),
        ({"signal_type": "pdq", "signal": "ab" * 31}, 400, "invalid pdq signal"),
        ({"signal_type": "md5", "signal": "0" * 31}, 400, "invalid md5 signal"),
        ({"signal_type": "vpdq", "signal": "1,2,3"}, 400, "invalid vpdq signal"),
        ({"signal_type": "photodna", "signal": "ab"}, 400, "No such SignalType"),
        ({"signal_type": "md5", "signal": "0" * 32, "include_distance": "maybe"}, 400, "invalid boolean"),
        ({"signal_type": "md5", "signal": "0" * 32, "banks": "known,unknown"}, 404, "no bank named unknown"),
    ],
)
def test_raw_lookup_bad_input(
    client: TestClient, keys: Keys, params: dict[str, str], status: int, message: str
) -> None:
    response = client.get("/m/raw_lookup", params=params, headers=keys.header("read"))
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_lookup_by_signal(client: TestClient, keys: Keys) -> None:
    read = keys.header("read")
    near = client.get("/m/lookup", params={"signal_type": "pdq", "signal": KNOWN_PDQ.hex}, headers=read)
    assert near.json() == {"known": [{"bank_content_id": 1, "distance": "0"}]}
    other = hash_bytes(OTHER).pdq
    assert other is not None
    assert (
        client.get("/m/lookup", params={"signal_type": "pdq", "signal": other.hex}, headers=read).json() == {}
    )
    neither = client.get("/m/lookup", params={"signal": KNOWN_PDQ.hex}, headers=read)
    assert neither.status_code == 400 and "Either url or both" in neither.json()["detail"]


def test_lookup_upload(client: TestClient, keys: Keys) -> None:
    read = keys.header("read")
    found = client.post("/m/lookup", files=upload("photo", SIMILAR), headers=read)
    assert found.status_code == 200
    body = found.json()
    assert set(body) == {"pdq", "md5", "sha256"} and body["md5"] == {} and body["sha256"] == {}
    [match] = body["pdq"]["known"]
    assert match["bank_content_id"] == 1 and 0 < int(match["distance"]) <= 31
    exact = client.post(
        "/m/lookup?banks=known&seed=7&bypass_coinflip=true", files=upload("photo", KNOWN), headers=read
    )
    assert exact.json()["md5"] == {"known": [{"bank_content_id": 2, "distance": "0"}]}
    clean = client.post("/m/lookup", files=upload("photo", OTHER), headers=read).json()
    assert clean == {"pdq": {}, "md5": {}, "sha256": {}}


def test_flat_picture_is_not_reported_clean(client: TestClient, keys: Keys) -> None:
    response = client.post("/m/lookup", files=upload("photo", FLAT, "flat.png"), headers=keys.header("read"))
    assert response.status_code == 422 and "low_quality" in response.json()["detail"]


def test_index_status(client: TestClient, keys: Keys) -> None:
    read = keys.header("read")
    status = client.get("/m/index/status", headers=read).json()
    assert set(status) == {"pdq", "vpdq", "md5", "sha256"}
    assert status["pdq"]["present"] is True and status["pdq"]["size"] == 2 and status["pdq"]["built_to"] > 0
    assert set(client.get("/m/index/status?signal_type=pdq", headers=read).json()) == {"pdq"}
    bad = client.get("/m/index/status?signal_type=nope", headers=read)
    assert bad.status_code == 400 and "No such SignalType" in bad.json()["detail"]


def test_compare(client: TestClient, keys: Keys) -> None:
    read = keys.header("read")
    similar, other = pdq_of(SIMILAR), pdq_of(OTHER)
    response = client.post(
        "/m/compare", json={"pdq": [KNOWN_PDQ.hex, similar.hex], "md5": ["a" * 32, "A" * 32]}, headers=read
    )
    body = response.json()
    assert body["pdq"][0] is True and 0 < body["pdq"][1]["distance"] <= 31
    assert body["md5"] == [True, {"distance": 0}]
    far = client.post("/m/compare", json={"pdq": [KNOWN_PDQ.hex, other.hex]}, headers=read).json()
    assert far["pdq"][0] is False and far["pdq"][1]["distance"] > 31
    for payload, message in (
        ([1, 2], "not a dict"),
        ({"pdq": "ab"}, "not a list"),
        ({"pdq": [KNOWN_PDQ.hex]}, "exactly 2"),
        ({"pdq": [KNOWN_PDQ.hex, "zz"]}, "invalid pdq signal"),
        ({"nope": ["a", "b"]}, "No such SignalType"),
    ):
        bad = client.post("/m/compare", json=payload, headers=read)
        assert bad.status_code == 400 and message in bad.json()["detail"], payload
    not_json = client.post("/m/compare", content=b"{nope", headers=read)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["detail"]


# -- /c ---------------------------------------------------------------------------------------------


def test_banks(client: TestClient, keys: Keys, platform: Platform) -> None:
    read, admin = keys.header("read"), keys.header("admin")
    listed = client.get("/c/banks", headers=read).json()
    assert listed == [
        {
            "name": "known",
            "matching_enabled_ratio": 1.0,
            "enabled": True,
            "kind": "block",
            "category": "other",
        }
    ]
    created = client.post("/c/banks", json={"name": "NEW_BANK", "enabled": False}, headers=admin)
    assert created.status_code == 201 and created.json()["matching_enabled_ratio"] == 0.0
    assert client.get("/c/bank/NEW_BANK", headers=read).json()["name"] == "NEW_BANK"
    updated = client.put("/c/bank/NEW_BANK", json={"enabled_ratio": 1.0}, headers=admin)
    assert updated.json()["enabled"] is True

    for body, status, message in (
        ({"name": "NEW_BANK"}, 403, "Bank already exists"),
        ({"name": "bad name!"}, 400, "must be 1-100 characters"),
        ({"name": "half", "enabled_ratio": 1.5}, 422, "enabled_ratio"),
        ({"nme": "x"}, 422, "name"),
    ):
        response = client.post("/c/banks", json=body, headers=admin)
        assert response.status_code == status and message in response.json()["detail"], (body, response.text)
    assert bank_names(platform) == ["NEW_BANK", "known"]
    # Unknown fields are ignored, as HMA does; a ratio between 0 and 1 is stored and matches fully.
    typo = client.post(
        "/c/banks", json={"name": "typo", "enabeld": False, "enabled_ratio": 0.5}, headers=admin
    )
    assert typo.status_code == 201 and typo.json()["matching_enabled_ratio"] == 0.5 and typo.json()["enabled"]
    missing = client.get("/c/bank/nope", headers=read)
    assert missing.status_code == 404 and "no bank named 'nope'" in missing.json()["detail"]
    rename = client.put("/c/bank/NEW_BANK", json={"name": "OTHER"}, headers=admin)
    assert rename.status_code == 200 and rename.json()["name"] == "OTHER"
    taken = client.put("/c/bank/OTHER", json={"name": "known"}, headers=admin)
    assert taken.status_code == 403 and "already exists" in taken.json()["detail"]
    assert client.delete("/c/bank/typo", headers=read).status_code == 403  # admin only
    assert client.delete("/c/bank/typo", headers=admin).json() == {"message": "Done"}
    assert bank_names(platform) == ["OTHER", "known"]


def test_exchange_routes_write_through_the_platform(
    client: TestClient, keys: Keys, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HMA's ``POST /c/exchanges`` makes the exchange and its bank in one transaction (a refused
    exchange leaves no bank), into an existing bank too; changes are audited under the API key; the
    credentials' source is named, never their value."""
    admin, read = keys.header("admin"), keys.header("read")
    refused = client.post("/c/exchanges", json={"api": "local_file", "bank": "FILE_LIST"}, headers=admin)
    assert refused.status_code == 400 and "needs the setting path" in refused.json()["detail"]
    assert "FILE_LIST" not in bank_names(platform)
    body = {
        "api": "ncmec",
        "bank": "NC_LIST",
        "api_json": {"environment": "https://exttest.cybertip.org/hashsharing"},
    }
    assert client.post("/c/exchanges", json={**body, "category": "csam"}, headers=admin).status_code == 201
    shown = client.get("/c/exchange/NC_LIST", headers=read).json()
    assert shown["environment"] == "test_Industry" and shown["bank"] == "NC_LIST"
    assert shown["credential_status"] == {"supports_auth": True, "has_credentials": False, "source": None}
    monkeypatch.setenv("SURAKSHA_EXCHANGE_NC_LIST_CREDENTIALS", "user:not-a-real-password")
    status = client.get("/c/exchange/NC_LIST/credentials", headers=read)
    assert status.json() == {"supports_auth": True, "has_credentials": True, "source": "environment"}
    api = client.get("/c/exchanges/api/ncmec", headers=read).json()
    assert api == {"supports_authentification": True, "has_set_authentification": True}
    assert "not-a-real-password" not in client.get("/c/exchange/NC_LIST", headers=read).text
    assert (
        client.post("/c/exchanges", json={"api": "sample", "bank": "known"}, headers=admin).status_code == 400
    )
    assert client.post("/c/banks", json={"name": "OURS"}, headers=admin).status_code == 201
    into_ours = client.post("/c/exchanges", json={"api": "sample", "bank": "OURS"}, headers=admin)
    assert into_ours.status_code == 201  # an existing bank is used, not made again
    assert client.get("/c/exchange/OURS", headers=read).json()["bank"] == "OURS"
    with platform.db.session() as session:
        assert banks.get_bank(session, "NC_LIST").category == "csam"
    changed = client.put(
        "/c/exchange/NC_LIST", json={"trust": "auto_action", "enabled": False}, headers=admin
    )
    assert changed.json()["trust"] == "auto_action" and changed.json()["enabled"] is False
    with platform.db.reading() as session:
        actors = {
            e.actor for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "exchange:change"))
        }
    assert actors == {"api-key:admin-key"}


def test_disabled_bank_stops_matching(client: TestClient, keys: Keys, cold_app: object) -> None:
    read, admin = keys.header("read"), keys.header("admin")
    query = {"signal_type": "pdq", "signal": KNOWN_PDQ.hex}
    assert client.get("/m/lookup", params=query, headers=read).json() != {}
    assert client.put("/c/bank/known", json={"enabled": False}, headers=admin).status_code == 200
    web_state(cold_app).index.refresh()  # type: ignore[arg-type]
    assert client.get("/m/lookup", params=query, headers=read).json() == {}


def test_add_content_then_match(client: TestClient, keys: Keys, cold_app: object, platform: Platform) -> None:
    admin, read = keys.header("admin"), keys.header("read")
    assert client.post("/c/banks", json={"name": "fresh"}, headers=admin).status_code == 201
    added = client.post("/c/bank/fresh/content", files=upload("photo", OTHER), headers=admin)
    assert added.status_code == 200, added.text
    body = added.json()
    assert set(body["signals"]) == {"pdq", "md5"} and body["id"] == body["ids"]["pdq"]
    web_state(cold_app).index.refresh()  # type: ignore[arg-type]
    found = client.post("/m/lookup", files=upload("photo", OTHER), headers=read).json()
    assert found["pdq"] == {"fresh": [{"bank_content_id": body["id"], "distance": "0"}]}
    again = client.post("/c/bank/fresh/content", files=upload("photo", OTHER), headers=admin).json()
    assert again["ids"] == body["ids"]  # the same content twice adds nothing

    before = entry_count(platform)
    for path, files, status, message in (
        ("/c/bank/nope/content", upload("photo", OTHER), 404, "no bank named 'nope'"),
        ("/c/bank/fresh/content", upload("photo", b"garbage"), 422, "could not hash"),
        ("/c/bank/fresh/content", None, 400, "Neither `url` nor multipart"),
    ):
        response = client.post(path, files=files, headers=admin)
        assert response.status_code == status and message in response.json()["detail"], response.text
    flat = client.post("/c/bank/fresh/content", files=upload("photo", FLAT, "flat.png"), headers=admin).json()
    assert set(flat["signals"]) == {"md5"} and "under the floor" in flat["skipped"]["pdq"]
    assert entry_count(platform) == before + 1


def test_add_signals(client: TestClient, keys: Keys, platform: Platform) -> None:
    admin = keys.header("admin")
    other, other_pdq = hash_bytes(OTHER), pdq_of(OTHER)
    response = client.post("/c/bank/known/signal", json={"pdq": other_pdq.hex.upper()}, headers=admin)
    assert response.status_code == 200
    assert response.json()["signals"] == {"pdq": other_pdq.hex} and response.json()["id"] == 5
    with platform.db.session() as session:
        assert session.get(BankEntry, 5).source_ref == "api-key:admin-key"  # type: ignore[union-attr]
    before = entry_count(platform)
    for body, status, message in (
        ({"md5": other.md5, "pdq": "zz"}, 400, "invalid pdq signal"),  # all or nothing: md5 not added
        ({}, 400, "No signals given"),
        ({"photodna": "ab"}, 400, "No such SignalType"),
        ({"md5": 5}, 422, "string"),
        (["pdq"], 422, "dictionary"),
    ):
        bad = client.post("/c/bank/known/signal", json=body, headers=admin)
        assert bad.status_code == status and message in bad.json()["detail"], (body, bad.text)
    missing = client.post("/c/bank/nope/signal", json={"md5": other.md5}, headers=admin)
    assert missing.status_code == 404
    assert entry_count(platform) == before
