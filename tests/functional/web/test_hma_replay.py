"""HMA's own API tests, replayed over HTTP against a live server.

Each test here is a translation of one test in facebook/ThreatExchange,
``hasher-matcher-actioner/src/OpenMediaMatch/tests/`` (file and test named in the docstring), written
by us: the same requests in the same order, sent with ``httpx`` to a real uvicorn on a free loopback
port over a fresh database (SQLite, and PostgreSQL when configured), with an API key, since every
Suraksha route is authenticated.

What HMA does in-process we do through the platform: ``build_all_indices`` is a refresh of the live
server's match index; HMA's pictures on github.com are benign synthetic pictures served by a local web
server that the server's fetcher is allowed to reach (HMA's tests reach the internet; ours do not).

Where we differ on purpose (docs/api.md, "Where we differ from HMA, and why"), the step says so in a
``# DIFFERENCE`` comment and checks our documented answer, or the whole test is marked xfail/skip with
the reason. Where HMA's tests compare whole bodies, we compare HMA's keys: our answers carry more
(``kind``, ``category``, ``enabled`` on banks; ``ids``, ``skipped`` and the MD5 on added content).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from suraksha.access.services import create_api_key
from suraksha.app import Platform
from suraksha.banks.models import BankCategory
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.outbound.targets import HostAllowList
from suraksha.signals.file_signals import hash_bytes
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from suraksha.web.state import WebState
from tests.browser.live import free_port

HMA = "facebook/ThreatExchange hasher-matcher-actioner/src/OpenMediaMatch/tests"

# HMA's two test pictures (aaa-orig.jpg and c.png), here two benign synthetic pictures.
IMAGE_1 = synthetic_jpeg(11)
IMAGE_2 = synthetic_jpeg(12)
SMALL_FETCH_LIMIT = 200_000  # the fetch limit of the replay server; BIG is over it
BIG = b"\xff\xd8" + bytes(SMALL_FETCH_LIMIT + 10)


def pdq_hex(data: bytes) -> str:
    pdq = hash_bytes(data).pdq
    assert pdq is not None
    return pdq.hex


@dataclass
class Hma:
    """An HMA client: HMA's requests, our API key on each."""

    base: str
    admin: str
    read: str
    media: str
    state: WebState

    def request(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key if key is not None else self.admin}"} if key != "" else {}
        with httpx.Client(base_url=self.base, timeout=30) as client:
            return client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def build_all_indices(self) -> None:
        """HMA's ``build_all_indices``: the live index catches up with the database."""
        self.state.index.refresh()

    def url(self, name: str) -> str:
        return f"{self.media}/{name}"

    # HMA's tests/utils.py helpers

    def create_bank(self, name: str) -> None:
        response = self.post("/c/banks", json={"name": name})
        assert response.status_code == 201, response.text
        assert_has(response.json(), {"matching_enabled_ratio": 1.0, "name": name})

    def add_hash_to_bank(self, bank: str, image: str, content_id: int | None = None) -> int:
        response = self.post(f"/c/bank/{bank}/content?url={self.url(image)}&content_type=photo")
        assert response.status_code == 200, response.text
        body = response.json()
        # DIFFERENCE (docs/api.md: bank content ids are entry ids, one per signal): a picture adds its
        # PDQ and its MD5, so the second picture's id is not 2; HMA's id is checked where it is 1.
        if content_id == 1:
            assert body["id"] == 1
        assert body["signals"]["pdq"] == PICTURES[image][1]
        return int(body["id"])


PICTURES = {"aaa-orig.jpg": (IMAGE_1, pdq_hex(IMAGE_1)), "c.png": (IMAGE_2, pdq_hex(IMAGE_2))}


def assert_has(body: dict[str, Any], expected: dict[str, Any]) -> None:
    """HMA's keys, with HMA's values (our answers carry more keys)."""
    assert {k: body.get(k) for k in expected} == expected, body


@contextmanager
def media_server(root: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def live(platform: Platform, fetcher: MediaFetcher) -> Iterator[tuple[str, WebState]]:
    """``suraksha serve`` in a thread: uvicorn on a free loopback port (as tests/browser/live.py)."""
    app = create_app(platform, fetcher=fetcher, start_index=False)
    state: WebState = app.state.suraksha
    state.load_index()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        loop="asyncio",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="hma-replay", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}", state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is replayed is HMA's HTTP surface, which does not depend on the store (the
    stores are tested below it, tests/functional/web/test_web_hma.py on both); a live server per test
    on both stores doubled CI's time for it."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def hma(make_platform: Callable[..., Platform], tmp_path: Path) -> Iterator[Hma]:
    """HMA's ``app``/``client`` fixtures: an empty platform (no banks), served live."""
    root = tmp_path / "www"
    root.mkdir()
    for name, (data, _) in PICTURES.items():
        (root / name).write_bytes(data)
    (root / "big.jpg").write_bytes(BIG)
    platform = make_platform()
    with platform.db.session() as session:
        admin = create_api_key(session, "hma-admin", ["admin"])[1]
        read = create_api_key(session, "hma-read", ["read"])[1]
    with media_server(root) as media:
        port = int(media.rsplit(":", 1)[1])
        fetcher = MediaFetcher(
            FetchPolicy(allowed_ports=frozenset({port}), max_bytes=SMALL_FETCH_LIMIT),
            allow_loopback_ports_for_testing=[port],
        )
        with live(platform, fetcher) as (base, state):
            yield Hma(base=base, admin=admin, read=read, media=media, state=state)


# -- test_api.py ------------------------------------------------------------------------------------


def test_status_response(hma: Hma) -> None:
    """test_api.py::test_status_response"""
    response = hma.get("/status")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"


def test_status_live(hma: Hma) -> None:
    """HMA's ``/status/live`` (app.py; no HMA test): plain text, alive while the process answers."""
    response = hma.get("/status/live")
    assert response.status_code == 200 and response.content == b"I-AM-ALIVE"
    assert response.headers["content-type"].startswith("text/plain")


def test_site_map(hma: Hma) -> None:
    """HMA's ``/site-map`` (app.py; no HMA test): the routes served."""
    response = hma.get("/site-map")
    assert response.status_code == 200
    assert "/c/banks" in response.json() and "/m/lookup" in response.json()


def test_banks_empty_index(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_empty_index"""
    response = hma.get("/c/banks")
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.xfail(
    strict=True,
    reason="docs/api.md: bank names are 1-100 letters, digits, '_', '-', '.' in any case (Suraksha's own "
    "banks are lower case); HMA refuses lower case and a leading digit",
)
def test_banks_create(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_create"""
    assert hma.post("/c/banks", json={"name": "01_TEST_BANK"}).status_code == 400
    assert hma.post("/c/banks", json={"name": "my_test_bank"}).status_code == 400


def test_banks_create_valid(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_create, from its valid name on (the name rules are
    the xfail above)."""
    post_response = hma.post("/c/banks", json={"name": "MY_TEST_BANK_01"})
    assert post_response.status_code == 201
    assert_has(post_response.json(), {"matching_enabled_ratio": 1.0, "name": "MY_TEST_BANK_01"})
    response = hma.get("/c/banks")
    assert response.status_code == 200
    assert response.json() == [post_response.json()]


def test_banks_create_duplicate(hma: Hma) -> None:
    """HMA's curation.py bank_create (no HMA test): an existing name is 403 "Bank already exists"."""
    hma.create_bank("MY_TEST_BANK")
    response = hma.post("/c/banks", json={"name": "MY_TEST_BANK"})
    assert response.status_code == 403 and "Bank already exists" in response.json()["message"]


def test_banks_update(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_update"""
    assert hma.post("/c/banks", json={"name": "MY_TEST_BANK"}).status_code == 201
    # DIFFERENCE (docs/api.md, bank names): "1_invalid_name" is a valid name here; one we refuse.
    assert hma.put("/c/bank/MY_TEST_BANK", json={"name": "1 invalid name!"}).status_code == 400
    response = hma.put("/c/bank/MY_TEST_BANK", json={"name": "MY_TEST_BANK_RENAMED"})
    assert response.status_code == 200
    assert response.json()["name"] == "MY_TEST_BANK_RENAMED"
    response = hma.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled": False})
    assert response.status_code == 200
    assert response.json()["matching_enabled_ratio"] == 0
    response = hma.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": 0.5})
    assert response.status_code == 200
    assert response.json()["matching_enabled_ratio"] == 0.5
    listed = hma.get("/c/banks")
    assert listed.status_code == 200
    assert len(listed.json()) == 1
    assert_has(listed.json()[0], {"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 0.5})


def test_banks_delete(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_delete"""
    assert hma.post("/c/banks", json={"name": "MY_TEST_BANK"}).status_code == 201
    assert hma.delete("/c/bank/MY_TEST_BANK").status_code == 200
    # deleting non existing bank should succeed
    assert hma.delete("/c/bank/MY_TEST_BANK").status_code == 200
    assert hma.get("/c/banks").json() == []


def test_banks_add_hash(hma: Hma) -> None:
    """test_api.py::test_banks_add_hash and test_api_banks.py::test_banks_add_content"""
    hma.create_bank("NEW_BANK")
    response = hma.post(f"/c/bank/NEW_BANK/content?url={hma.url('aaa-orig.jpg')}&content_type=photo")
    assert response.status_code == 200, response.text
    # DIFFERENCE (docs/api.md, bank content ids): ``signals`` also holds the MD5 entry's value.
    assert_has(response.json(), {"id": 1})
    assert response.json()["signals"]["pdq"] == PICTURES["aaa-orig.jpg"][1]


def test_banks_delete_hash(hma: Hma) -> None:
    """test_api.py::test_banks_delete_hash and test_api_banks.py::test_banks_delete_content"""
    hma.create_bank("NEW_BANK")
    hma.add_hash_to_bank("NEW_BANK", "aaa-orig.jpg", 1)
    hma.build_all_indices()
    response = hma.delete("/c/bank/NEW_BANK/content/1")
    assert response.status_code == 200
    assert response.json() == {"deleted": 1}
    hma.build_all_indices()
    response = hma.get(f"/m/raw_lookup?signal_type=pdq&signal={PICTURES['aaa-orig.jpg'][1]}")
    assert response.status_code == 200
    assert response.json() == {"matches": []}


def test_banks_add_metadata(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_add_metadata"""
    hma.create_bank("NEW_BANK")
    request = f"/c/bank/NEW_BANK/content?url={hma.url('aaa-orig.jpg')}&content_type=photo"
    response = hma.post(request, json={"metadata": {"invalid_metadata": 5}})
    assert response.status_code == 400, response.text
    response = hma.post(request, json={"metadata": {"content_id": "1197433091", "json": {"asdf": {}}}})
    assert response.status_code == 200, response.text
    # Stored and returned (HMA's BankContentResponse.metadata).
    content = hma.get(f"/c/bank/NEW_BANK/content/{response.json()['id']}").json()
    assert content["metadata"]["content_id"] == "1197433091"
    assert content["metadata"]["json"] == {"asdf": {}}


def test_banks_add_hash_index(hma: Hma) -> None:
    """test_api.py / test_api_banks.py::test_banks_add_hash_index"""
    hma.create_bank("NEW_BANK")
    first = hma.add_hash_to_bank("NEW_BANK", "aaa-orig.jpg", 1)
    hma.create_bank("NEW_BANK_2")
    second = hma.add_hash_to_bank("NEW_BANK", "c.png", 2)
    hma.build_all_indices()
    response = hma.get(f"/m/raw_lookup?signal_type=pdq&signal={PICTURES['aaa-orig.jpg'][1]}")
    assert response.status_code == 200
    assert response.json() == {"matches": [first]}
    response = hma.get(f"/m/raw_lookup?signal_type=pdq&signal={PICTURES['c.png'][1]}")
    assert response.status_code == 200
    assert response.json() == {"matches": [second]}


def test_exchange_api_set_auth(hma: Hma) -> None:
    """test_api.py::test_exchange_api_set_auth"""
    sample_name, tx_name = "sample", "ncmec"
    # DIFFERENCE (docs/api.md: the exchange APIs wired are sample, ncmec, local_file, stop_ncii, tat
    # and fb_threatexchange): HMA's test
    # installs sample and fb_threatexchange; NCMEC's hash sharing stands in for the API with credentials.
    resp = hma.get("/c/exchanges/apis")
    assert resp.status_code == 200
    assert set(resp.json()) == {sample_name, tx_name, "local_file", "stop_ncii", "tat", "fb_threatexchange"}

    resp = hma.get(f"/c/exchanges/api/{sample_name}")
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": False, "has_set_authentification": False}

    resp = hma.get(f"/c/exchanges/api/{tx_name}")
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": False}

    secret = "12345789|000000000000"
    creds = {"credential_json": {"user": "u", "password": secret}}
    resp = hma.post(f"/c/exchanges/api/{tx_name}", json=creds)
    # DIFFERENCE (docs/api.md: credentials are never taken over HTTP, they come from the environment
    # or the secrets file): 403, nothing stored, the value not echoed.
    assert resp.status_code == 403 and secret not in resp.text

    resp = hma.get(f"/c/exchanges/api/{tx_name}")
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": False}

    # Unset
    resp = hma.post(f"/c/exchanges/api/{tx_name}", json={"credential_json": {}})
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": False}


# -- test_api_banks.py ------------------------------------------------------------------------------


def test_bank_get_content(hma: Hma) -> None:
    """test_api_banks.py::test_bank_get_content"""
    hma.create_bank("TEST_BANK_GET")
    add = hma.post(f"/c/bank/TEST_BANK_GET/content?url={hma.url('aaa-orig.jpg')}&content_type=photo")
    assert add.status_code == 200, add.text
    content_id = add.json()["id"]
    response = hma.get(f"/c/bank/TEST_BANK_GET/content/{content_id}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == content_id


def test_bank_get_content_404(hma: Hma) -> None:
    """test_api_banks.py::test_bank_get_content_404"""
    assert hma.get("/c/bank/TEST_BANK_GET/content/1").status_code == 404
    hma.create_bank("TEST_BANK_GET")
    assert hma.get("/c/bank/TEST_BANK_GET/content/1").status_code == 404


def test_bank_update_content(hma: Hma) -> None:
    """test_api_banks.py::test_bank_update_content"""
    hma.create_bank("TEST_BANK_UPDATE")
    add = hma.post(f"/c/bank/TEST_BANK_UPDATE/content?url={hma.url('aaa-orig.jpg')}&content_type=photo")
    assert add.status_code == 200, add.text
    content_id = add.json()["id"]
    new_disable_ts = int((datetime.now() + timedelta(days=365)).timestamp())
    response = hma.put(
        f"/c/bank/TEST_BANK_UPDATE/content/{content_id}", json={"disable_until_ts": new_disable_ts}
    )
    assert response.status_code == 200, response.text
    assert response.json()["disable_until_ts"] == new_disable_ts
    # Disabled until then: the lookup no longer finds it.
    hma.build_all_indices()
    found = hma.get(f"/m/raw_lookup?signal_type=pdq&signal={PICTURES['aaa-orig.jpg'][1]}")
    assert found.json() == {"matches": []}


def test_bank_update_content_400(hma: Hma) -> None:
    """test_api_banks.py::test_bank_update_content_400"""
    hma.create_bank("TEST_BANK_UPDATE")
    add = hma.post(f"/c/bank/TEST_BANK_UPDATE/content?url={hma.url('aaa-orig.jpg')}&content_type=photo")
    assert add.status_code == 200, add.text
    response = hma.put(
        f"/c/bank/TEST_BANK_UPDATE/content/{add.json()['id']}", json={"disable_until_ts": 9999999999}
    )
    assert response.status_code == 400, response.text


def test_bank_get_content_with_signals(hma: Hma) -> None:
    """test_api_banks.py::test_bank_get_content_with_signals"""
    hma.create_bank("TEST_BANK_GET_SIGS")
    add = hma.post(f"/c/bank/TEST_BANK_GET_SIGS/content?url={hma.url('aaa-orig.jpg')}&content_type=photo")
    assert add.status_code == 200, add.text
    content_id = add.json()["id"]
    response = hma.get(f"/c/bank/TEST_BANK_GET_SIGS/content/{content_id}?include_signals=true")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == content_id
    if "signals" in response.json():
        assert isinstance(response.json()["signals"], dict) and len(response.json()["signals"]) > 0


def test_bank_content_note(hma: Hma) -> None:
    """HMA's content ``note`` (BankContentResponse.note, max 255; no HMA test): stored, returned,
    changed with PUT."""
    hma.create_bank("NOTES")
    add = hma.post(
        f"/c/bank/NOTES/content?url={hma.url('aaa-orig.jpg')}", json={"note": "from the March review"}
    )
    assert add.status_code == 200, add.text
    content_id = add.json()["id"]
    assert hma.get(f"/c/bank/NOTES/content/{content_id}").json()["note"] == "from the March review"
    changed = hma.put(f"/c/bank/NOTES/content/{content_id}", json={"note": "checked twice"})
    assert changed.status_code == 200 and changed.json()["note"] == "checked twice"
    assert hma.put(f"/c/bank/NOTES/content/{content_id}", json={"note": "x" * 256}).status_code == 400


@pytest.mark.xfail(
    strict=True,
    reason="docs/api.md: disabling or deleting content of a csam bank needs a second person (four eyes); "
    "HMA has no bank categories and lets one caller do it",
)
def test_bank_update_content_csam_bank(hma: Hma) -> None:
    """test_api_banks.py::test_bank_update_content and ::test_banks_delete_content, on a csam bank."""
    with hma.state.platform.db.session() as session:
        from suraksha.banks import services

        services.create_bank(session, "CSAM_BANK", category=BankCategory.CSAM)
    hma.add_hash_to_bank("CSAM_BANK", "aaa-orig.jpg", 1)
    ts = int((datetime.now(UTC) + timedelta(days=30)).timestamp())
    assert hma.put("/c/bank/CSAM_BANK/content/1", json={"disable_until_ts": ts}).status_code == 200
    assert hma.delete("/c/bank/CSAM_BANK/content/1").status_code == 200


def test_csam_guard_answers_forbidden(hma: Hma) -> None:
    """The documented difference above, as we answer it: 403, nothing changed."""
    with hma.state.platform.db.session() as session:
        from suraksha.banks import services

        services.create_bank(session, "CSAM_BANK", category=BankCategory.CSAM)
    hma.add_hash_to_bank("CSAM_BANK", "aaa-orig.jpg", 1)
    ts = int((datetime.now(UTC) + timedelta(days=30)).timestamp())
    assert hma.put("/c/bank/CSAM_BANK/content/1", json={"disable_until_ts": ts}).status_code == 403
    assert hma.delete("/c/bank/CSAM_BANK/content/1").status_code == 403
    assert hma.delete("/c/bank/CSAM_BANK").status_code == 403
    assert hma.get("/c/bank/CSAM_BANK/content/1").json()["disable_until_ts"] == 0


# -- test_match_api.py ------------------------------------------------------------------------------


def test_raw_lookups(hma: Hma) -> None:
    """test_match_api.py::test_raw_lookups. HMA fills its banks from the static sample exchange; here
    each signal type's python-threatexchange examples go in through ``/c/bank/{n}/signal``."""
    hma.create_bank("SAMPLE")
    examples = {"pdq": PdqSignal.get_examples()[0], "video_md5": VideoMD5Signal.get_examples()[0]}
    for name, example in examples.items():
        assert hma.post("/c/bank/SAMPLE/signal", json={name: example}).status_code == 200
    hma.build_all_indices()
    for name, example in examples.items():
        query: dict[str, Any] = {"signal": example, "signal_type": name}
        response = hma.get("/m/raw_lookup", params=query)
        assert response.status_code == 200, response.text
        match_count = len(response.json()["matches"])
        assert match_count >= 1
        query["include_distance"] = True
        response = hma.get("/m/raw_lookup", params=query)
        assert response.status_code == 200
        matches = response.json()["matches"]
        assert len(matches) == match_count
        for match in matches:
            # HMA's test names "content_id"; HMA's matching.py answers "bank_content_id", as we do.
            assert "bank_content_id" in match and "distance" in match


# -- test_e2e_workflow.py ---------------------------------------------------------------------------


def test_raw_hash_add_to_match_no_distance(hma: Hma) -> None:
    """test_e2e_workflow.py::test_raw_hash_add_to_match_no_distance"""
    hma.create_bank("TEST_BANK")
    hashes = PdqSignal.get_examples()
    for pdq in hashes:
        assert hma.post("/c/bank/TEST_BANK/signal", json={"pdq": pdq}).status_code == 200
    hma.build_all_indices()
    response = hma.get("/m/index/status?signal_type=pdq")
    assert response.status_code == 200
    build_info = response.json()["pdq"]
    assert build_info["present"] is True
    assert build_info["size"] == len(hashes)
    response = hma.get(f"/m/lookup?signal_type=pdq&signal={hashes[-1]}")
    assert response.status_code == 200
    # HMA's test names "content_id"; HMA's matching.py answers "bank_content_id", as we do.
    assert response.json() == {"TEST_BANK": [{"bank_content_id": len(hashes), "distance": "0"}]}
    response = hma.get("/m/lookup?signal_type=pdq&signal=" + "5" * 64)
    assert response.status_code == 200
    assert response.json() == {}


# -- test_hashing.py (HMA tests its URL check as a function; we send each URL to /h/hash) -----------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ws://example.com",
        "wss://example.com",
    ],
)
def test_invalid_schemes(hma: Hma, url: str) -> None:
    """test_hashing.py::test_invalid_schemes"""
    assert hma.get("/h/hash", params={"url": url}).status_code == 400


@pytest.mark.parametrize("url", ["example.com", "//example.com", "http://", "https://"])
def test_missing_scheme_or_netloc(hma: Hma, url: str) -> None:
    """test_hashing.py::test_missing_scheme_or_netloc (its "" and None: no url at all, 422 below)"""
    assert hma.get("/h/hash", params={"url": url}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "http://",
        "https://",
        "http:///example.com",
        "http://example.com:",
        "http://example.com:abc",
    ],
)
def test_malformed_urls(hma: Hma, url: str) -> None:
    """test_hashing.py::test_malformed_urls"""
    assert hma.get("/h/hash", params={"url": url}).status_code == 400


@pytest.mark.skip(
    reason="test_hashing.py::test_valid_urls, ::test_empty_allowed_hostnames: "
    "fetching example.com needs the internet"
)
def test_valid_urls() -> None:
    """test_hashing.py::test_valid_urls and ::test_empty_allowed_hostnames"""


def test_allowed_hostnames(make_platform: Callable[..., Platform]) -> None:
    """test_hashing.py::test_allowed_hostnames, with our setting (``fetch_allowed_hosts``). Its allowed
    names need the internet; the refused ones are refused before any look-up."""
    platform = make_platform()
    with platform.db.session() as session:
        read = create_api_key(session, "hma-read", ["read"])[1]
    policy = FetchPolicy(allowed_hosts=HostAllowList.parse("example.com,cdn.example.com,media.example.com"))
    with live(platform, MediaFetcher(policy)) as (base, _state):
        for url in (
            "https://evil.com",
            "https://malicious-site.com",
            "https://example.com.evil.com",
            "https://evil.com/example.com",
        ):
            response = httpx.get(
                f"{base}/h/hash", params={"url": url}, headers={"Authorization": f"Bearer {read}"}, timeout=30
            )
            assert response.status_code == 400, (url, response.text)


def test_content_length_validation(hma: Hma) -> None:
    """test_hashing.py::test_content_length_validation (HMA mocks the remote; ours is a local file over
    the server's fetch limit, then one under it)."""
    response = hma.get("/h/hash", params={"url": hma.url("big.jpg")})
    assert response.status_code == 413
    assert "Content too large" in response.text
    assert hma.get("/h/hash", params={"url": hma.url("aaa-orig.jpg")}).status_code != 413


@pytest.mark.skip(
    reason="test_hashing.py::test_content_length_validation_default, ::..._misconfiguration: fetch_max_bytes "
    "always has a value, and a bad one stops the service at start (Settings), never a 500 per request"
)
def test_content_length_validation_config() -> None:
    """test_hashing.py::test_content_length_validation_default and ::_misconfiguration"""


# -- test_openapi_blueprint.py ----------------------------------------------------------------------


def test_openapi_json_endpoint(hma: Hma) -> None:
    """test_openapi_blueprint.py::test_openapi_json_endpoint"""
    response = hma.get("/openapi/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    spec = response.json()
    # DIFFERENCE (docs/api.md): FastAPI writes OpenAPI 3.1; HMA's file says 3.0.0.
    assert spec["openapi"].startswith("3.")
    assert "info" in spec and "paths" in spec and "components" in spec


@pytest.mark.skip(
    reason="HMA's documentation pages (/api/openapi.yaml, /api/docs, /api/redoc, /api/) are not served; "
    "the document is at /openapi.json and /openapi/openapi.json"
)
def test_openapi_yaml_endpoint() -> None:
    """test_openapi_blueprint.py::test_openapi_yaml_endpoint, ::test_swagger_ui_endpoint,
    ::test_redoc_endpoint, ::test_api_home_endpoint"""


# -- where we differ on purpose ---------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True, reason="docs/api.md: every route needs an API key (HMA has no authentication)"
)
def test_no_api_key(hma: Hma) -> None:
    """HMA's client fixture sends no credentials: every test above, without our key."""
    assert hma.get("/c/banks", key="").status_code == 200


@pytest.mark.skip(
    reason="test_fetcher.py drives HMA's fetcher over a mocked store, in-process: nothing over HTTP to "
    "replay (our worker's schedule: tests/integration/exchanges)"
)
def test_fetcher() -> None:
    """test_fetcher.py"""


@pytest.mark.skip(
    reason="test_exchange_credentials.py stores credentials through the API (its fake_auth API, "
    "installed in-process); ours come from the environment or the secrets file, never over HTTP "
    "(docs/api.md). Its sample-API part is replayed below"
)
def test_exchange_credentials() -> None:
    """test_exchange_credentials.py (all but the sample API's part)"""


def test_invalid_credentials_rejected_without_echo_sample_part(hma: Hma) -> None:
    """test_exchange_credentials.py::test_invalid_credentials_rejected_without_echo, its last part:
    APIs that don't use credentials reject them."""
    secret = "fake-secret-must-not-echo"
    body = {"api": "sample", "bank": "EX_SAMPLE", "api_json": {}, "credential_json": {"token": secret}}
    resp = hma.post("/c/exchanges", json=body)
    # DIFFERENCE (docs/api.md: credentials are never taken over HTTP): 403 for every API, not 400.
    assert resp.status_code == 403 and secret not in resp.text
    assert hma.get("/c/exchange/EX_SAMPLE").status_code == 404  # nothing was created
    assert "EX_SAMPLE" not in [b["name"] for b in hma.get("/c/banks").json()]  # not its bank either
    resp = hma.post("/c/exchanges", json={"api": "sample", "bank": "EX_SAMPLE", "api_json": {}})
    assert resp.status_code == 201
    resp = hma.post("/c/exchange/EX_SAMPLE/credentials", json={"credential_json": {"token": secret}})
    assert resp.status_code == 403 and secret not in resp.text  # DIFFERENCE: HMA 400 (the API takes none)
    assert hma.get("/c/exchange/EX_SAMPLE/credentials").json() == {
        "supports_auth": False,
        "has_credentials": False,
        "source": None,
    }


# -- HMA routes without an HMA test (shapes from HMA's blueprints/curation.py) ----------------------------


def test_signal_and_content_types(hma: Hma) -> None:
    """HMA's ``/c/signal_type``, ``/c/signal_type/index`` and ``/c/content_type``."""
    names = {t["name"]: t["enabled_ratio"] for t in hma.get("/c/signal_type").json()}
    assert names == {"pdq": 1.0, "vpdq": 1.0, "md5": 1.0, "sha256": 1.0}
    assert hma.put("/c/signal_type/pdq", json={"enabled_ratio": 1.0}).json() == {
        "name": "pdq",
        "enabled_ratio": 1.0,
    }
    assert hma.put("/c/signal_type/pdq", json={"enabled_ratio": 0.0}).status_code == 400
    assert hma.get("/c/content_type").json() == [
        {"name": "photo", "enabled": True},
        {"name": "video", "enabled": True},
    ]
    hma.create_bank("SAMPLE")
    assert hma.post("/c/bank/SAMPLE/signal", json={"pdq": PdqSignal.get_examples()[0]}).status_code == 200
    hma.build_all_indices()
    status = hma.get("/c/signal_type/index", params={"signal_type": "pdq"}).json()
    assert set(status) == {"pdq"}
    assert status["pdq"]["db_size"] == 1 and status["pdq"]["index_size"] == 1
    assert status["pdq"]["index_out_of_date"] is False and status["pdq"]["newest_db_item"] > 0
    assert hma.get("/c/signal_type/index", params={"signal_type": "nope"}).status_code == 400


def test_exchange_routes(hma: Hma, tmp_path: Path) -> None:
    """HMA's ``/c/exchanges`` and ``/c/exchange/{name}`` (create, list, show, status, enable and
    disable, delete) on a sample exchange, fetched as HMA's fetcher would (here the platform's fetch)."""
    assert hma.get("/c/exchanges").json() == []
    for body, wording in (
        ({"api": "sample", "bank": "lower_case"}, "Field `bank` must match"),
        ({"bank": "SAMPLE_LIST"}, "Field `api_type` is required"),
        ({"api": "no_such_api", "bank": "SAMPLE_LIST"}, "No such exchange type"),
        ({"api": "sample", "bank": "SAMPLE_LIST", "api_json": []}, "Field `api_json` must be object"),
    ):
        resp = hma.post("/c/exchanges", json=body)
        assert resp.status_code == 400 and wording in resp.json()["message"], resp.text
    assert hma.post("/c/exchanges", json={"api": "sample", "bank": "X"}, key=hma.read).status_code == 403
    created = hma.post("/c/exchanges", json={"api": "sample", "bank": "SAMPLE_LIST", "api_json": {}})
    assert created.status_code == 201 and created.json() == {"message": "Created successfully"}
    assert hma.post("/c/exchanges", json={"api": "sample", "bank": "SAMPLE_LIST"}).status_code == 409
    assert hma.get("/c/exchanges").json() == ["SAMPLE_LIST"]
    assert "SAMPLE_LIST" in [b["name"] for b in hma.get("/c/banks").json()]  # its bank, made with it
    shown = hma.get("/c/exchange/SAMPLE_LIST").json()
    assert_has(shown, {"name": "SAMPLE_LIST", "api": "sample", "enabled": True, "bank": "SAMPLE_LIST"})
    assert hma.get("/c/exchange/NO_SUCH").status_code == 404
    status = hma.get("/c/exchange/SAMPLE_LIST/status").json()
    assert status == {
        "checkpoint_ts": None,
        "running_fetch_start_ts": None,
        "last_fetch_complete_ts": None,
        "last_fetch_succeeded": None,
        "up_to_date": False,
        "fetched_items": 0,
    }

    hma.state.platform.exchange_fetch("SAMPLE_LIST", actor="test")  # HMA: fetcher.fetch_all
    status = hma.get("/c/exchange/SAMPLE_LIST/status").json()
    assert status["last_fetch_succeeded"] is True and status["up_to_date"] is True
    assert status["fetched_items"] > 0 and status["last_fetch_complete_ts"] > 0

    updated = hma.put("/c/exchange/SAMPLE_LIST", json={"enabled": False})
    assert updated.status_code == 200 and updated.json()["enabled"] is False
    assert hma.put("/c/exchange/SAMPLE_LIST", json={"enabled": True}, key=hma.read).status_code == 403

    listed = tmp_path / "list.txt"
    listed.write_text(f"pdq {PICTURES['c.png'][1]}\n")
    body = {"api": "local_file", "bank": "FILE_LIST", "api_json": {"filename": str(listed)}}
    assert hma.post("/c/exchanges", json=body).status_code == 201
    assert_has(hma.get("/c/exchange/FILE_LIST").json(), {"api": "local_file", "filename": str(listed)})

    assert hma.delete("/c/exchange/SAMPLE_LIST").json() == {"message": "Exchange deleted"}
    assert hma.delete("/c/exchange/SAMPLE_LIST").status_code == 200  # gone already: 200, as HMA
    assert hma.get("/c/exchanges").json() == ["FILE_LIST"]
    # DIFFERENCE (docs/api.md): the bank and what the exchange put there stay.
    assert "SAMPLE_LIST" in [b["name"] for b in hma.get("/c/banks").json()]


def test_unknown_fields_are_ignored(hma: Hma) -> None:
    """HMA's pydantic bodies ignore unknown fields; so do our HMA routes (``/api/v1`` stays strict)."""
    created = hma.post("/c/banks", json={"name": "EXTRA", "colour": "blue"})
    assert created.status_code == 201
    assert (
        hma.put("/c/bank/EXTRA", json={"enabled": False, "colour": "red"}).json()["matching_enabled_ratio"]
        == 0
    )


def test_status_while_index_loads(make_platform: Callable[..., Platform]) -> None:
    """HMA's ``/status`` is 503 until its index is built; ours too (plain text), and also once stale."""
    platform = make_platform()
    with platform.db.session() as session:
        read = create_api_key(session, "hma-read", ["read"])[1]
    app = create_app(platform, start_index=False)
    with TestClient(app) as client:
        response = client.get("/status", headers={"Authorization": f"Bearer {read}"})
        assert response.status_code == 503 and response.text == "INDEX-NOT-LOADED"
        live = client.get("/status/live", headers={"Authorization": f"Bearer {read}"})
        assert live.status_code == 200 and live.text == "I-AM-ALIVE"
