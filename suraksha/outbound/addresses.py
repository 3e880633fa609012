"""Which network addresses an outbound request may reach.

A media URL comes from the host platform, and a webhook URL from an administrator: either can point at
our own network (the database, the cloud metadata service that hands out credentials, an admin port on
loopback). Server-side request forgery is stopped here, on the *address* a name resolves to, because
names prove nothing: ``evil.example`` can resolve to ``127.0.0.1``, and so can ``2130706433`` or
``[::ffff:127.0.0.1]``. Every address the resolver returns is checked, and the caller connects only to
an address that passed (see ``pinning.py``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressBlock(StrEnum):
    """Why an address may not be reached."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link_local"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    UNSPECIFIED = "unspecified"
    SHARED = "shared"  # carrier-grade NAT, 100.64.0.0/10 (RFC 6598)
    UNIQUE_LOCAL = "unique_local"  # fc00::/7
    METADATA = "metadata"  # cloud instance metadata and platform agents
    NOT_GLOBAL = "not_global"  # any other special-purpose range (documentation, benchmarking...)


# Cloud metadata and host-agent endpoints. Most sit in link-local or unique-local ranges and are refused
# for that reason too; Azure's wire server (168.63.129.16) is a public address and only this list stops it.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    )
)

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use, embedding varies: refused
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291): the last 32 bits


@dataclass(frozen=True)
class AddressPolicy:
    """What beyond the public internet may be reached.

    ``allow_private_network`` is for webhook endpoints an administrator marked as inside the platform's
    own network (RFC 1918, unique-local, carrier-grade NAT). ``loopback_ports_for_testing`` lets tests
    and the local demo reach their own loopback server on its port, and no other loopback port; it is
    never read from a setting. Metadata, link-local, multicast, reserved and unspecified addresses are
    refused under every policy.
    """

    allow_private_network: bool = False
    loopback_ports_for_testing: frozenset[int] = frozenset()

    def block(self, address: IPAddress, port: int) -> AddressBlock | None:
        """The reason ``address``:``port`` is refused under this policy, or None when it may be reached."""
        reason = address_block(address)
        if reason is AddressBlock.LOOPBACK and port in self.loopback_ports_for_testing:
            return None
        if self.allow_private_network and reason in _PRIVATE_NETWORK:
            return None
        return reason


_PRIVATE_NETWORK = frozenset({AddressBlock.PRIVATE, AddressBlock.UNIQUE_LOCAL, AddressBlock.SHARED})


def address_block(address: IPAddress) -> AddressBlock | None:
    """Why ``address`` is not a public unicast address, or None when it is one.

    IPv6 spellings of an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged by
    the IPv4 address they carry, so ``::ffff:127.0.0.1`` is loopback.
    """
    if address in METADATA_ADDRESSES:
        return AddressBlock.METADATA
    if isinstance(address, ipaddress.IPv6Address):
        return _ipv6_block(address)
    return _ipv4_block(address)


def _ipv4_block(address: ipaddress.IPv4Address) -> AddressBlock | None:
    if address.is_unspecified:
        return AddressBlock.UNSPECIFIED
    if address.is_loopback:
        return AddressBlock.LOOPBACK
    if address.is_link_local:
        return AddressBlock.LINK_LOCAL
    if address.is_multicast:
        return AddressBlock.MULTICAST
    if address in _SHARED:
        return AddressBlock.SHARED
    if address.is_reserved:
        return AddressBlock.RESERVED
    if address.is_private:
        return AddressBlock.PRIVATE
    if not address.is_global:
        return AddressBlock.NOT_GLOBAL
    return None


def _ipv6_block(address: ipaddress.IPv6Address) -> AddressBlock | None:
    if address.is_unspecified:
        return AddressBlock.UNSPECIFIED
    if address.is_loopback:
        return AddressBlock.LOOPBACK
    mapped = address.ipv4_mapped
    if mapped is None and address in _NAT64_WELL_KNOWN:
        mapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if mapped is not None:
        # The packet goes to the IPv4 address: judge that one alone.
        return address_block(mapped)
    if address in _IPV4_COMPATIBLE:
        carried = address_block(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return carried or AddressBlock.RESERVED
    if address in _NAT64_LOCAL:
        return AddressBlock.RESERVED
    tunnelled = address.sixtofour or (address.teredo[1] if address.teredo else None)
    if tunnelled is not None and (carried := address_block(tunnelled)) is not None:
        return carried
    if address.is_link_local:
        return AddressBlock.LINK_LOCAL
    if address.is_multicast:
        return AddressBlock.MULTICAST
    if address.is_site_local:  # fec0::/10, deprecated (RFC 3879) yet counted global by ipaddress
        return AddressBlock.RESERVED
    if address in _UNIQUE_LOCAL:
        return AddressBlock.UNIQUE_LOCAL
    if address.is_reserved:
        return AddressBlock.RESERVED
    if address.is_private:
        return AddressBlock.PRIVATE
    if not address.is_global:
        return AddressBlock.NOT_GLOBAL
    return None


_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, in any spelling the C library accepts.

    ``2130706433``, ``0x7f.1`` and ``127.1`` all mean 127.0.0.1 to ``inet_aton``; a name whose last
    label is a number is such a literal (WHATWG URL: "ends in a number"). Returns None for a host name.
    Raises ValueError for a number that is no address (``1.2.3.4.5``, ``999999999999``).
    """
    bare = host.removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if not _NUMERIC_LABEL.fullmatch(last):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
    except OSError:
        raise ValueError(f"{host!r} looks like an IP address but is not one") from None
