"""Fetching from a real HTTP server on loopback: bodies, limits, time, protocol errors."""

from __future__ import annotations

import json
import time

import pytest

from suraksha.outbound.fetch import (
    FetchedMedia,
    FetchFailure,
    FetchFailureReason,
    FetchPolicy,
    MediaFetcher,
)
from suraksha.settings import Settings

from .conftest import BENIGN, Served


def fetcher(server: Served, **policy: object) -> MediaFetcher:
    base = {"allowed_ports": frozenset({server.port}), "max_bytes": 1_000_000, "timeout_s": 5.0}
    base.update(policy)
    return MediaFetcher(
        FetchPolicy(**base),  # type: ignore[arg-type]
        allow_loopback_ports_for_testing={server.port},
    )


def test_fetches_bytes_type_and_address(media_server: Served) -> None:
    outcome = fetcher(media_server).fetch(media_server.url("/ok"))
    assert isinstance(outcome, FetchedMedia)
    assert outcome.content == BENIGN
    assert outcome.content_type == "image/jpeg"
    assert outcome.address == "127.0.0.1"
    assert outcome.final_url == media_server.url("/ok")
    assert outcome.redirects == ()


def test_sends_identity_encoding_and_user_agent(media_server: Served) -> None:
    outcome = fetcher(media_server, user_agent="Suraksha-Test/1").fetch(media_server.url("/headers"))
    assert isinstance(outcome, FetchedMedia)
    headers = {k.lower(): v for k, v in json.loads(outcome.content).items()}
    assert headers["user-agent"] == "Suraksha-Test/1"
    assert headers["accept-encoding"] == "identity"
    assert headers["host"] == f"127.0.0.1:{media_server.port}"


def test_follows_redirects_and_reports_final_url(media_server: Served) -> None:
    outcome = fetcher(media_server).fetch(media_server.url("/redirect?to=/ok"))
    assert isinstance(outcome, FetchedMedia)
    assert outcome.content == BENIGN
    assert outcome.final_url == media_server.url("/ok")
    assert outcome.redirects == (media_server.url("/ok"),)


def test_redirect_loop_stops(media_server: Served) -> None:
    outcome = fetcher(media_server, max_redirects=3).fetch(media_server.url("/loop"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.TOO_MANY_REDIRECTS


def test_declared_length_over_limit_is_refused_unread(media_server: Served) -> None:
    outcome = fetcher(media_server, max_bytes=1000).fetch(media_server.url("/size/5000"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.TOO_LARGE and "Content-Length" in outcome.detail


def test_exactly_the_limit_is_fetched(media_server: Served) -> None:
    outcome = fetcher(media_server, max_bytes=1000).fetch(media_server.url("/size/1000"))
    assert isinstance(outcome, FetchedMedia) and len(outcome.content) == 1000


def test_undeclared_huge_body_stops_at_limit(media_server: Served) -> None:
    started = time.monotonic()
    outcome = fetcher(media_server, max_bytes=100_000).fetch(media_server.url("/stream/50000000"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.TOO_LARGE and "body" in outcome.detail
    assert time.monotonic() - started < 2.0  # stopped early: 50 MB were never read


def test_content_length_smaller_than_body_reads_only_what_was_declared(media_server: Served) -> None:
    outcome = fetcher(media_server).fetch(media_server.url("/lie-short/100000"))
    assert isinstance(outcome, FetchedMedia) and len(outcome.content) == 10


def test_content_length_larger_than_body_is_a_failure(media_server: Served) -> None:
    outcome = fetcher(media_server).fetch(media_server.url("/lie-long"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.CONNECTION_FAILED


def test_slow_drip_is_cut_at_the_overall_deadline(media_server: Served) -> None:
    started = time.monotonic()
    outcome = fetcher(media_server, timeout_s=0.6, read_timeout_s=10.0).fetch(media_server.url("/drip"))
    elapsed = time.monotonic() - started
    assert isinstance(outcome, FetchFailure) and outcome.reason is FetchFailureReason.TIMED_OUT
    assert elapsed < 1.5


def test_silence_is_cut_at_the_read_timeout(media_server: Served) -> None:
    started = time.monotonic()
    outcome = fetcher(media_server, read_timeout_s=0.3).fetch(media_server.url("/stall"))
    assert isinstance(outcome, FetchFailure) and outcome.reason is FetchFailureReason.TIMED_OUT
    assert time.monotonic() - started < 1.5


def test_compressed_body_is_refused(media_server: Served) -> None:
    outcome = fetcher(media_server).fetch(media_server.url("/gzip"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.UNSUPPORTED_ENCODING


@pytest.mark.parametrize("status", [404, 403, 500, 503])
def test_http_errors_carry_their_status(media_server: Served, status: int) -> None:
    outcome = fetcher(media_server).fetch(media_server.url(f"/status/{status}"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.HTTP_ERROR and outcome.status == status


def test_nothing_listening_is_connection_failed(media_server: Served) -> None:
    outcome = MediaFetcher(
        FetchPolicy(allowed_ports=frozenset({1})), allow_loopback_ports_for_testing={1}
    ).fetch("http://127.0.0.1:1/ok")
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.CONNECTION_FAILED


def test_policy_from_settings() -> None:
    settings = Settings.load(
        environ={
            "SURAKSHA_FETCH_ALLOWED_HOSTS": "media.example,*.cdn.example",
            "SURAKSHA_FETCH_ALLOWED_PORTS": "443",
            "SURAKSHA_FETCH_MAX_BYTES": "1234",
            "SURAKSHA_FETCH_TIMEOUT_S": "7.5",
            "SURAKSHA_FETCH_MAX_REDIRECTS": "2",
        }
    )
    policy = FetchPolicy.from_settings(settings)
    assert policy.allowed_ports == {443} and policy.max_bytes == 1234
    assert policy.timeout_s == 7.5 and policy.max_redirects == 2
    assert policy.allowed_hosts.allows("x.cdn.example") and not policy.allowed_hosts.allows("evil.example")


def test_bad_fetch_settings_are_a_clear_error() -> None:
    from suraksha.errors import ConfigError

    with pytest.raises(ConfigError, match="fetch settings"):
        FetchPolicy.from_settings(Settings.load(environ={"SURAKSHA_FETCH_ALLOWED_PORTS": "http"}))
    with pytest.raises(ConfigError, match="fetch_max_redirects"):
        Settings.load(environ={"SURAKSHA_FETCH_MAX_REDIRECTS": "-1"})
