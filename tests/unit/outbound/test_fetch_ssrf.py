"""Server-side request forgery: hostile redirects, names that point inside, DNS rebinding, TLS names."""

from __future__ import annotations

import json
import logging
import ssl
from urllib.parse import quote

import httpcore
import pytest

from suraksha.outbound.fetch import (
    FetchedMedia,
    FetchFailure,
    FetchFailureReason,
    FetchPolicy,
    MediaFetcher,
)
from suraksha.outbound.pinning import PinnedBackend

from .conftest import BENIGN, FakeDNS, Served


def fetcher(server: Served, dns: FakeDNS, *, tls: ssl.SSLContext | None = None) -> MediaFetcher:
    return MediaFetcher(
        FetchPolicy(allowed_ports=frozenset({80, 443, server.port, server.port + 1}), timeout_s=5.0),
        resolver=dns,
        ssl_context=tls,
        allow_loopback_ports_for_testing={server.port},
    )


@pytest.mark.parametrize(
    ("location", "reason", "address"),
    [
        ("http://127.0.0.1/admin", FetchFailureReason.BLOCKED_ADDRESS, "127.0.0.1"),
        ("http://127.0.0.1:{port_plus_one}/", FetchFailureReason.BLOCKED_ADDRESS, "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", FetchFailureReason.BLOCKED_ADDRESS, "169.254.169.254"),
        ("http://[::1]/", FetchFailureReason.BLOCKED_ADDRESS, "::1"),
        ("http://[::ffff:127.0.0.1]/", FetchFailureReason.BLOCKED_ADDRESS, "::ffff:7f00:1"),
        ("http://[::ffff:169.254.169.254]/", FetchFailureReason.BLOCKED_ADDRESS, "::ffff:a9fe:a9fe"),
        ("http://2130706433/", FetchFailureReason.BLOCKED_ADDRESS, "127.0.0.1"),
        ("http://0x7f.1/", FetchFailureReason.BLOCKED_ADDRESS, "127.0.0.1"),
        ("http://0xa9fea9fe/", FetchFailureReason.BLOCKED_ADDRESS, "169.254.169.254"),
        ("http://10.0.0.1/", FetchFailureReason.BLOCKED_ADDRESS, "10.0.0.1"),
        ("http://100.64.0.1/", FetchFailureReason.BLOCKED_ADDRESS, "100.64.0.1"),
        ("http://[fd00::1]/", FetchFailureReason.BLOCKED_ADDRESS, "fd00::1"),
        ("http://0177.0.0.1/", FetchFailureReason.INVALID_URL, None),
        ("file:///etc/passwd", FetchFailureReason.BLOCKED_SCHEME, None),
        ("gopher://127.0.0.1:6379/_INFO", FetchFailureReason.BLOCKED_SCHEME, None),
        ("http://media.example:6379/", FetchFailureReason.BLOCKED_PORT, None),
        ("http://user:pw@media.example/", FetchFailureReason.INVALID_URL, None),
        ("http://internal.example/", FetchFailureReason.BLOCKED_ADDRESS, "192.168.1.10"),
        ("http://nowhere.example/", FetchFailureReason.DNS_FAILURE, None),
    ],
)
def test_hostile_redirects_are_refused(
    media_server: Served,
    dns: FakeDNS,
    caplog: pytest.LogCaptureFixture,
    location: str,
    reason: FetchFailureReason,
    address: str | None,
) -> None:
    dns.answers["internal.example"] = [["192.168.1.10"]]
    location = location.format(port_plus_one=media_server.port + 1)
    caplog.set_level(logging.INFO, logger="suraksha.outbound.fetch")
    outcome = fetcher(media_server, dns).fetch(media_server.url("/redirect?to=" + quote(location, safe="")))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is reason
    assert outcome.address == address
    assert [path for path, _h, _s in media_server.seen].count("/admin") == 0
    if reason in {FetchFailureReason.BLOCKED_ADDRESS, FetchFailureReason.BLOCKED_SCHEME}:
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith("event=fetch.blocked url=http://127.0.0.1:")
        assert f"reason={reason.value}" in warnings[0]


def test_name_pointing_at_loopback_is_refused_before_connecting(dns: FakeDNS) -> None:
    dns.answers["media.example"] = [["127.0.0.1"]]
    outcome = MediaFetcher(resolver=dns).fetch("http://media.example/ok")
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.BLOCKED_ADDRESS and outcome.address == "127.0.0.1"


def test_one_private_address_among_public_ones_refuses_the_name(dns: FakeDNS) -> None:
    dns.answers["media.example"] = [["93.184.215.14", "10.0.0.8"]]
    outcome = MediaFetcher(resolver=dns).fetch("https://media.example/ok")
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.BLOCKED_ADDRESS and outcome.address == "10.0.0.8"


def test_resolver_timeout_is_timed_out() -> None:
    def slow(host: str, port: int, timeout_s: float) -> list[str]:
        raise TimeoutError("no answer")

    outcome = MediaFetcher(resolver=slow).fetch("https://media.example/ok")
    assert isinstance(outcome, FetchFailure) and outcome.reason is FetchFailureReason.TIMED_OUT


def test_connection_goes_to_the_pinned_address_and_keeps_the_host_header(
    media_server: Served, dns: FakeDNS
) -> None:
    # "rebind.example" answers the check with the test server's address, and every later lookup with a
    # private one. The name exists nowhere else: if the client resolved it again on its own, the
    # connection could not succeed. It does, to the pinned address, with the original Host header.
    dns.answers["rebind.example"] = [["127.0.0.1"], ["10.0.0.7"]]
    outcome = fetcher(media_server, dns).fetch(media_server.url("/headers", host="rebind.example"))
    assert isinstance(outcome, FetchedMedia)
    assert outcome.address == "127.0.0.1"
    assert dns.lookups == ["rebind.example"]
    headers = {k.lower(): v for k, v in json.loads(outcome.content).items()}
    assert headers["host"] == f"rebind.example:{media_server.port}"


def test_rebinding_between_hops_is_caught(media_server: Served, dns: FakeDNS) -> None:
    dns.answers["rebind.example"] = [["127.0.0.1"], ["10.0.0.7"]]
    outcome = fetcher(media_server, dns).fetch(media_server.url("/redirect?to=/ok", host="rebind.example"))
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.BLOCKED_ADDRESS and outcome.address == "10.0.0.7"
    assert dns.lookups == ["rebind.example", "rebind.example"]


def test_redirect_to_another_name_is_checked_too(media_server: Served, dns: FakeDNS) -> None:
    dns.answers["first.example"] = [["127.0.0.1"]]
    dns.answers["second.example"] = [["127.0.0.1"]]
    to = media_server.url("/ok", host="second.example")
    outcome = fetcher(media_server, dns).fetch(
        media_server.url("/redirect?to=" + quote(to, safe=""), host="first.example")
    )
    assert isinstance(outcome, FetchedMedia) and outcome.content == BENIGN
    assert outcome.final_url == to and dns.lookups == ["first.example", "second.example"]


def test_backend_never_resolves_an_unpinned_name() -> None:
    backend = PinnedBackend(deadline=float("inf"))
    with pytest.raises(httpcore.ConnectError, match="refusing to resolve"):
        backend.connect_tcp("localhost", 80)


def test_tls_uses_the_host_name_for_sni_and_certificate(
    tls_media_server: Served, dns: FakeDNS, client_tls: ssl.SSLContext
) -> None:
    dns.answers["media.example"] = [["127.0.0.1"]]
    outcome = fetcher(tls_media_server, dns, tls=client_tls).fetch(
        tls_media_server.url("/ok", host="media.example", scheme="https")
    )
    assert isinstance(outcome, FetchedMedia) and outcome.content == BENIGN
    assert outcome.address == "127.0.0.1"
    assert tls_media_server.seen[-1][2] == "media.example"  # SNI


def test_tls_certificate_for_another_name_is_refused(
    tls_media_server: Served, dns: FakeDNS, client_tls: ssl.SSLContext
) -> None:
    dns.answers["other.example"] = [["127.0.0.1"]]
    outcome = fetcher(tls_media_server, dns, tls=client_tls).fetch(
        tls_media_server.url("/ok", host="other.example", scheme="https")
    )
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason is FetchFailureReason.CONNECTION_FAILED
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.detail


def test_allow_list_applies_to_every_hop(media_server: Served, dns: FakeDNS) -> None:
    from suraksha.outbound.targets import HostAllowList

    dns.answers["media.example"] = [["127.0.0.1"]]
    dns.answers["elsewhere.example"] = [["127.0.0.1"]]
    policy = FetchPolicy(
        allowed_ports=frozenset({media_server.port}),
        allowed_hosts=HostAllowList.parse("media.example"),
    )
    fetch = MediaFetcher(policy, resolver=dns, allow_loopback_ports_for_testing={media_server.port}).fetch
    assert isinstance(fetch(media_server.url("/ok", host="media.example")), FetchedMedia)
    to = quote(media_server.url("/ok", host="elsewhere.example"), safe="")
    outcome = fetch(media_server.url("/redirect?to=" + to, host="media.example"))
    assert isinstance(outcome, FetchFailure) and outcome.reason is FetchFailureReason.NOT_ALLOWED_HOST


def test_system_resolver_refuses_localhost() -> None:
    # The real resolver (hosts file): "localhost" is loopback, whatever the spelling of the name.
    for url in ("http://localhost/", "http://LOCALHOST:80/admin"):
        outcome = MediaFetcher().fetch(url)
        assert isinstance(outcome, FetchFailure)
        assert outcome.reason is FetchFailureReason.BLOCKED_ADDRESS and outcome.address == "127.0.0.1"


def test_upper_case_names_and_literals_reach_the_pinned_address(media_server: Served, dns: FakeDNS) -> None:
    dns.answers["media.example"] = [["127.0.0.1"]]  # httpx lower-cases names; not IPv6 literals
    fetch = fetcher(media_server, dns).fetch
    assert isinstance(fetch(media_server.url("/ok", host="MEDIA.Example")), FetchedMedia)
    assert isinstance(fetch(media_server.url("/ok", host="[::FFFF:127.0.0.1]")), FetchedMedia)
