"""Health, readiness (503 until the index is loaded and current), metrics, headers, the OpenAPI
document, and a real server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suraksha.app import Platform
from suraksha.web.app import create_app

from .conftest import Keys, web_state

MD5_LOOKUP = "/m/lookup?signal_type=md5&signal=" + "0" * 32


def test_healthz_needs_no_key(cold_client: TestClient) -> None:
    response = cold_client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_not_ready_until_the_index_is_loaded(cold_app: FastAPI, cold_client: TestClient, keys: Keys) -> None:
    response = cold_client.get("/readyz")
    assert response.status_code == 503 and response.headers["retry-after"]
    assert response.json()["index_loaded"] is False and "loading" in response.json()["detail"]
    # unknown is never clean: a lookup on an index that is not loaded is 503, not "no match"
    lookup = cold_client.get(MD5_LOOKUP, headers=keys.header("read"))
    assert lookup.status_code == 503 and "not loaded" in lookup.json()["detail"]
    status = cold_client.get("/m/index/status", headers=keys.header("read")).json()
    assert status["pdq"] == {"present": False, "built_to": -1, "size": 0, "ready": False}

    web_state(cold_app).load_index()
    ready = cold_client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert cold_client.get(MD5_LOOKUP, headers=keys.header("read")).json() == {}


def test_stale_index_is_not_ready(make_platform: Callable[..., Platform], keys: Keys) -> None:
    app = create_app(make_platform(index_stale_after_s=0.05), start_index=False)
    web_state(app).index.load()  # loaded, but nothing follows the feed
    with TestClient(app) as client:
        time.sleep(0.1)
        response = client.get("/readyz")
        assert response.status_code == 503 and "stale" in response.json()["detail"]
        assert response.json()["index_loaded"] is True
        assert client.get(MD5_LOOKUP, headers=keys.header("read")).status_code == 503


def test_the_lifespan_loads_the_index(platform: Platform, keys: Keys) -> None:
    with TestClient(create_app(platform)) as client:
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the index never became ready"
            time.sleep(0.02)


def test_metrics(client: TestClient, keys: Keys) -> None:
    client.get("/healthz")
    client.get(MD5_LOOKUP, headers=keys.header("read"))
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers=keys.header("read"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'suraksha_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/m/lookup",status="200"' in text
    assert 'suraksha_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    assert 'suraksha_index_entries{signal_type="pdq"} 2.0' in text
    assert "suraksha_index_position_lag 0.0" in text
    assert "suraksha_index_ready 1.0" in text
    assert "suraksha_jobs_due 0.0" in text and "suraksha_jobs_expired_leases 0.0" in text
    assert keys.read not in text


def test_metrics_can_be_left_open(make_platform: Callable[..., Platform], keys: Keys) -> None:
    with TestClient(create_app(make_platform(metrics_public=True), start_index=False)) as client:
        response = client.get("/metrics")
        assert response.status_code == 200 and "suraksha_index_ready 0.0" in response.text


def test_security_headers_and_problem_documents(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/no/such/route"), client.delete("/healthz")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    missing = client.get("/no/such/route")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert client.delete("/healthz").status_code == 405


def test_openapi_publishes_the_security_schemes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["BearerKey"]["description"],
    }
    assert schemes["ApiKeyHeader"]["in"] == "header" and schemes["ApiKeyHeader"]["name"] == "X-Api-Key"
    lookup = document["paths"]["/m/lookup"]["get"]
    assert {"BearerKey": []} in lookup["security"] and {"ApiKeyHeader": []} in lookup["security"]
    assert "security" not in document["paths"]["/healthz"]["get"]
    for path in (
        "/h/hash",
        "/m/raw_lookup",
        "/m/index/status",
        "/m/compare",
        "/c/banks",
        "/c/bank/{bank_name}",
    ):
        assert path in document["paths"]


def test_real_server_on_a_loopback_port(platform: Platform, keys: Keys) -> None:
    """Over a socket, with uvicorn, as `suraksha serve` runs it."""
    app = create_app(platform)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            while http.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "not ready in time"
                time.sleep(0.02)
            assert http.get(MD5_LOOKUP).status_code == 401
            assert http.get(MD5_LOOKUP, headers=keys.header("read")).json() == {}
        # A declared body over the limit is refused before a byte of it is read.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"POST /c/banks HTTP/1.1\r\nHost: test\r\nContent-Length: 999999999999\r\n\r\n")
            assert raw.recv(4096).startswith(b"HTTP/1.1 413 ")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_are_413_and_change_nothing(
    make_platform: Callable[..., Platform], keys: Keys, chunked: bool
) -> None:
    app = create_app(make_platform(web_max_body_bytes=64 * 1024), start_index=False)
    web_state(app).load_index()
    body = b'{"name": "' + b"a" * (100 * 1024) + b'"}'
    with TestClient(app) as client:
        content = iter([body[i : i + 8192] for i in range(0, len(body), 8192)]) if chunked else body
        response = client.post(
            "/c/banks",
            content=content,
            headers={**keys.header("admin"), "Content-Type": "application/json"},
        )
        assert response.status_code == 413, response.text
        assert "web_max_body_bytes" in response.json()["detail"]
        assert client.get("/c/banks", headers=keys.header("read")).json()[0]["name"] == "known"
        assert len(client.get("/c/banks", headers=keys.header("read")).json()) == 1
