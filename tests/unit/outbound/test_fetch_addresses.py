"""Address and URL checks, without the network."""

from __future__ import annotations

import ipaddress

import pytest

from suraksha.outbound.addresses import AddressBlock, AddressPolicy, address_block, literal_address
from suraksha.outbound.targets import (
    HostAllowList,
    Refusal,
    TargetPolicy,
    TargetRefused,
    loggable_url,
    parse_ports,
    parse_target,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", AddressBlock.LOOPBACK),
        ("127.255.0.9", AddressBlock.LOOPBACK),
        ("::1", AddressBlock.LOOPBACK),
        ("10.1.2.3", AddressBlock.PRIVATE),
        ("172.16.0.1", AddressBlock.PRIVATE),
        ("192.168.1.1", AddressBlock.PRIVATE),
        ("169.254.1.1", AddressBlock.LINK_LOCAL),
        ("fe80::1", AddressBlock.LINK_LOCAL),
        ("224.0.0.1", AddressBlock.MULTICAST),
        ("ff02::1", AddressBlock.MULTICAST),
        ("240.0.0.1", AddressBlock.RESERVED),
        ("255.255.255.255", AddressBlock.RESERVED),
        ("0.0.0.0", AddressBlock.UNSPECIFIED),
        ("::", AddressBlock.UNSPECIFIED),
        ("100.64.0.1", AddressBlock.SHARED),
        ("100.127.255.254", AddressBlock.SHARED),
        ("fc00::1", AddressBlock.UNIQUE_LOCAL),
        ("fd12:3456::1", AddressBlock.UNIQUE_LOCAL),
        ("fec0::1", AddressBlock.RESERVED),
        ("169.254.169.254", AddressBlock.METADATA),
        ("168.63.129.16", AddressBlock.METADATA),
        ("100.100.100.200", AddressBlock.METADATA),
        ("fd00:ec2::254", AddressBlock.METADATA),
        ("192.0.2.1", AddressBlock.PRIVATE),  # documentation (TEST-NET-1)
        ("2001:db8::1", AddressBlock.PRIVATE),  # documentation
        # IPv6 spellings of IPv4 addresses are judged by the IPv4 address.
        ("::ffff:127.0.0.1", AddressBlock.LOOPBACK),
        ("::ffff:10.0.0.1", AddressBlock.PRIVATE),
        ("::ffff:169.254.169.254", AddressBlock.METADATA),
        ("::127.0.0.1", AddressBlock.LOOPBACK),  # IPv4-compatible
        ("::8.8.8.8", AddressBlock.RESERVED),  # IPv4-compatible is deprecated whatever it carries
        ("64:ff9b::7f00:1", AddressBlock.LOOPBACK),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", AddressBlock.METADATA),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::1", AddressBlock.RESERVED),  # local-use NAT64
        ("2002:7f00:1::1", AddressBlock.LOOPBACK),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", AddressBlock.METADATA),  # 6to4 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", AddressBlock.LOOPBACK),  # Teredo client 127.0.0.1
    ],
)
def test_blocked_addresses(address: str, reason: AddressBlock) -> None:
    assert address_block(ipaddress.ip_address(address)) is reason


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_pass(address: str) -> None:
    assert address_block(ipaddress.ip_address(address)) is None


def test_private_network_opt_in_never_opens_metadata_or_loopback() -> None:
    inside = AddressPolicy(allow_private_network=True)
    for allowed in ("10.0.0.5", "192.168.0.9", "fd12::1", "100.64.1.1"):
        assert inside.block(ipaddress.ip_address(allowed), 443) is None
    for refused in ("169.254.169.254", "127.0.0.1", "fe80::1", "fd00:ec2::254", "0.0.0.0"):
        assert inside.block(ipaddress.ip_address(refused), 443) is not None


def test_loopback_for_testing_is_one_port_only() -> None:
    testing = AddressPolicy(loopback_ports_for_testing=frozenset({8123}))
    assert testing.block(ipaddress.ip_address("127.0.0.1"), 8123) is None
    assert testing.block(ipaddress.ip_address("127.0.0.1"), 80) is AddressBlock.LOOPBACK
    assert testing.block(ipaddress.ip_address("10.0.0.1"), 8123) is AddressBlock.PRIVATE


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("[::1]", "::1"),
        ("media.example", None),
        ("cafe.example", None),
    ],
)
def test_literal_addresses_in_every_spelling(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert found == (ipaddress.ip_address(address) if address else None)


def test_number_that_is_no_address() -> None:
    with pytest.raises(ValueError, match="not one"):
        literal_address("1.2.3.4.5")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", Refusal.BLOCKED_SCHEME),
        ("gopher://media.example/", Refusal.BLOCKED_SCHEME),
        ("ftp://media.example/x", Refusal.BLOCKED_SCHEME),
        ("http://user:pw@media.example/x", Refusal.INVALID_URL),
        ("http://media.example@127.0.0.1/x", Refusal.INVALID_URL),
        ("http://media.example:22/x", Refusal.BLOCKED_PORT),
        ("http:///x", Refusal.INVALID_URL),
        ("//media.example/x", Refusal.BLOCKED_SCHEME),
        ("http://[::1", Refusal.INVALID_URL),
        ("http://0177.0.0.1/", Refusal.INVALID_URL),  # httpx refuses octal outright
        ("http://2130706433/", Refusal.BLOCKED_ADDRESS),
        ("http://0x7f.1/", Refusal.BLOCKED_ADDRESS),
        ("http://[::ffff:127.0.0.1]/", Refusal.BLOCKED_ADDRESS),
        ("http://[::1]/", Refusal.BLOCKED_ADDRESS),
        ("http://169.254.169.254/latest/meta-data/", Refusal.BLOCKED_ADDRESS),
        ("http://0x5db8d822/", Refusal.INVALID_URL),  # public, but only SSRF payloads spell it so
        ("http://" + "a" * 5000 + ".example/", Refusal.INVALID_URL),
    ],
)
def test_url_refusals_before_any_lookup(url: str, reason: Refusal) -> None:
    with pytest.raises(TargetRefused) as refused:
        parse_target(url, TargetPolicy())
    assert refused.value.reason is reason


def test_allow_list_exact_and_suffix() -> None:
    allow = HostAllowList.parse("media.example, *.cdn.example")
    assert allow.allows("media.example") and allow.allows("MEDIA.example.")
    assert allow.allows("a.b.cdn.example")
    assert not allow.allows("cdn.example") and not allow.allows("evilcdn.example")
    assert not allow.allows("media.example.evil")
    policy = TargetPolicy(allowed_hosts=allow)
    with pytest.raises(TargetRefused) as refused:
        parse_target("https://evil.example/x", policy)
    assert refused.value.reason is Refusal.NOT_ALLOWED_HOST
    assert parse_target("https://img.cdn.example/x", policy).host == "img.cdn.example"


@pytest.mark.parametrize("bad", ["media example", "*.", "a..b", "http://x", "*x.example"])
def test_allow_list_rejects_non_hosts(bad: str) -> None:
    with pytest.raises(ValueError, match="not host names"):
        HostAllowList.parse(bad)


def test_ports_parse() -> None:
    assert parse_ports("80, 443,8080") == {80, 443, 8080}
    assert parse_ports([443]) == {443}
    for bad in ("", "0", "70000"):
        with pytest.raises(ValueError, match="ports"):
            parse_ports(bad)
    with pytest.raises(ValueError):
        parse_ports("http")


def test_loggable_url_drops_tokens_and_escapes() -> None:
    assert loggable_url("https://u:p@cdn.example/a.jpg?sig=SECRET#frag") == "https://***@cdn.example/a.jpg"
    assert "\n" not in loggable_url("http://x/\nevent=forged")
    assert len(loggable_url("http://x/" + "a" * 10_000)) == 300
