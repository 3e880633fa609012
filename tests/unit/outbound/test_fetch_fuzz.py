"""Any URL string gives a typed outcome, never an exception; nothing here touches the network."""

from __future__ import annotations

import contextlib
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suraksha.outbound.addresses import address_block, literal_address
from suraksha.outbound.fetch import FetchFailure, FetchFailureReason, FetchPolicy, MediaFetcher
from suraksha.outbound.targets import HostAllowList


def _no_dns(host: str, port: int, timeout_s: float) -> list[str]:
    raise OSError("no DNS in this test")


# Public literal addresses pass the address checks, so the allow-list (checked after them) stops them
# before any connection: this test must not reach out of the machine.
FETCHER = MediaFetcher(
    FetchPolicy(timeout_s=2.0, allowed_hosts=HostAllowList.parse("*.invalid")), resolver=_no_dns
)

_hosts = st.one_of(
    st.from_regex(r"[a-z0-9.\-]{0,30}", fullmatch=True),
    st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)),
    st.integers(min_value=0, max_value=2**40).map(str),
    st.integers(min_value=0, max_value=2**32).map(hex),
    st.text(max_size=20),
)
_urls = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda scheme, userinfo, host, port, path: f"{scheme}://{userinfo}{host}{port}{path}",
        st.sampled_from(["http", "https", "HTTP", "file", "ftp", "gopher", "", "javascript"]),
        st.sampled_from(["", "u@", "u:p@", "@", ":@"]),
        _hosts,
        st.one_of(st.just(""), st.integers(min_value=-1, max_value=70000).map(lambda p: f":{p}")),
        st.text(max_size=30),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_urls)
def test_any_url_gives_a_typed_failure(url: str) -> None:
    outcome = FETCHER.fetch(url)
    assert isinstance(outcome, FetchFailure)
    assert outcome.reason in {
        FetchFailureReason.INVALID_URL,
        FetchFailureReason.BLOCKED_SCHEME,
        FetchFailureReason.BLOCKED_PORT,
        FetchFailureReason.BLOCKED_ADDRESS,
        FetchFailureReason.NOT_ALLOWED_HOST,
        FetchFailureReason.DNS_FAILURE,
    }


@given(st.ip_addresses())
def test_every_address_is_classified(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    reason = address_block(address)
    if reason is None:
        assert address.is_global and not address.is_multicast


@given(st.text(max_size=40))
def test_literal_address_never_raises_anything_but_value_error(host: str) -> None:
    with contextlib.suppress(ValueError):
        literal_address(host)
