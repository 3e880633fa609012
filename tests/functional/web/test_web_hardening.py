"""Requests an attacker shapes: bodies nested without end, Host headers that are not ours, URLs that
point inside our network. Each answers a 4xx that says what was wrong, and reveals nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suraksha.access.services import create_api_key
from suraksha.app import Platform
from suraksha.errors import ConfigError
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.web.app import create_app
from suraksha.web.middleware import MAX_JSON_DEPTH

from .conftest import Keys, web_state

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
JUST_TOO_DEEP = '{"pdq":' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"


def body_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every route of the API that takes a request body, with a concrete path."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        concrete = path.replace("{bank_name}", "known")
        found.extend(
            (method.upper(), concrete) for method in operations if method in {"post", "put", "patch"}
        )
    return found


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_4xx_on_every_route(
    cold_app: FastAPI, client: TestClient, keys: Keys, body: str
) -> None:
    routes = body_routes(cold_app)
    assert ("POST", "/m/compare") in routes and ("POST", "/api/v1/items") in routes
    for method, path in routes:
        for content_type in ("application/json", None):
            headers = {**keys.header("admin"), **({"Content-Type": content_type} if content_type else {})}
            answer = client.request(method, path, content=body, headers=headers)
            assert 400 <= answer.status_code < 500, (method, path, content_type, answer.status_code)


@pytest.mark.parametrize("path", ["/m/compare", "/api/v1/items", "/api/v1/check", "/c/banks"])
def test_a_body_past_the_nesting_limit_is_refused_before_parsing(
    client: TestClient, keys: Keys, path: str
) -> None:
    answer = client.post(
        path, content=JUST_TOO_DEEP, headers={**keys.header("admin"), "Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert f"more than {MAX_JSON_DEPTH} deep" in answer.json()["detail"]


def test_compare_reads_deep_json_sent_as_text_without_failing(client: TestClient, keys: Keys) -> None:
    """/m/compare reads its body as JSON whatever its declared type, so it guards the parse itself."""
    answer = client.post(
        "/m/compare", content=DEEP_ARRAY, headers={**keys.header("read"), "Content-Type": "text/plain"}
    )
    assert answer.status_code == 400 and "nests too deeply" in answer.json()["detail"]


def test_brackets_in_strings_are_not_nesting(client: TestClient, keys: Keys) -> None:
    text = '{"pdq": ["' + "[" * 500 + '", "' + "{" * 500 + '"]}'
    answer = client.post(
        "/m/compare", content=text, headers={**keys.header("read"), "Content-Type": "application/json"}
    )
    assert answer.status_code == 400 and "invalid pdq signal" in answer.json()["detail"]


# -- what a refused fetch says -------------------------------------------------------------------------


def test_a_refused_url_does_not_say_what_an_internal_name_resolves_to(
    platform: Platform, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    """A name that resolves inside our network is refused with the rule that stopped it; the addresses
    it resolved to go to the log, never to the caller."""

    def resolver(host: str, port: int, timeout_s: float) -> list[str]:
        if host == "gone.example":
            raise OSError("Name or service not known (looked in 10.9.8.7)")
        return {"db.internal.example": ["10.20.30.40"], "mixed.example": ["93.184.216.34", "fd00::17"]}[host]

    app = create_app(platform, fetcher=MediaFetcher(FetchPolicy(), resolver=resolver), start_index=False)
    web_state(app).load_index()
    secrets = ("10.20.30.40", "fd00::17", "93.184.216.34", "10.9.8.7", "private", "unique_local")
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        for url, status in (
            ("http://db.internal.example/x.jpg", 400),
            ("http://mixed.example/x.jpg", 400),
            ("http://gone.example/x.jpg", 502),
        ):
            for route in ("/h/hash", "/m/lookup"):
                answer = client.get(route, params={"url": url}, headers=keys.header("read"))
                assert answer.status_code == status, answer.text
                detail = answer.json()["detail"]
                assert not any(secret in answer.text for secret in secrets), detail
            assert ("unsafe URL" in detail) if status == 400 else ("dns_failure" in detail)
    assert "10.20.30.40" in caplog.text and "fd00::17" in caplog.text  # the operator still sees why


# -- the URLs we hand out ------------------------------------------------------------------------------

ITEM = {"platform_item_id": "p-host", "kind": "post", "account": {"platform_id": "a-1"}, "text": "hello"}
FOREIGN_HOST = {"Host": "evil.example"}


def test_item_urls_never_echo_the_host_header(client: TestClient, keys: Keys) -> None:
    """Unset public_base_url: ``Location`` and ``status_url`` are relative paths, whatever Host said."""
    answer = client.post("/api/v1/items", json=ITEM, headers={**keys.header("ingest"), **FOREIGN_HOST})
    assert answer.status_code == 202, answer.text
    item_id = answer.json()["id"]
    assert answer.headers["Location"] == answer.json()["status_url"] == f"/api/v1/items/{item_id}"
    followed = client.get(answer.headers["Location"], headers=keys.header("ingest"))
    assert followed.status_code == 200 and followed.json()["id"] == item_id


def test_item_urls_use_the_configured_public_address(make_platform: Callable[..., Platform]) -> None:
    platform = make_platform(public_base_url="https://suraksha.example.org/moderation/")
    with platform.db.session() as session:
        _, key = create_api_key(session, "ingest-key", ["ingest"])
    with TestClient(create_app(platform, start_index=False)) as client:
        answer = client.post(
            "/api/v1/items", json=ITEM, headers={"Authorization": f"Bearer {key}", **FOREIGN_HOST}
        )
    assert answer.status_code == 202, answer.text
    expected = f"https://suraksha.example.org/moderation/api/v1/items/{answer.json()['id']}"
    assert answer.headers["Location"] == answer.json()["status_url"] == expected


@pytest.mark.parametrize(
    "value",
    ["suraksha.example.org", "ftp://suraksha.example.org", "https://x.example/?a=1", "https://u:p@x.example"],
)
def test_a_bad_public_base_url_stops_the_app_with_a_clear_message(
    make_platform: Callable[..., Platform], value: str
) -> None:
    with pytest.raises(ConfigError, match="public_base_url"):
        create_app(make_platform(public_base_url=value), start_index=False)


def test_no_answer_redirects_to_the_host_header(client: TestClient, keys: Keys) -> None:
    """Starlette's trailing-slash redirect built its Location from Host: it is off, so a stray slash is
    a plain 404 and nothing on any route points at a host the client named."""
    for path in ("/c/banks/", "/api/v1/actions/", "/healthz/", "/m/index/status/"):
        answer = client.get(path, headers={**keys.header("admin"), **FOREIGN_HOST}, follow_redirects=False)
        assert "evil.example" not in answer.headers.get("location", ""), path
        assert "evil.example" not in answer.text, path
