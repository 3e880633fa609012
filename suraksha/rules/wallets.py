"""Crypto wallet addresses, with the checksum each format carries.

A wallet shared in a bio is a payment channel and a join key across accounts; its checksum tells a real
address from a typo or a decoy, so every address says whether it was verified:

- Bitcoin legacy: base58check (``base58``), version byte 0x00 (P2PKH, ``1...``) or 0x05 (P2SH, ``3...``).
- Bitcoin segwit: bech32 for witness version 0, bech32m for 1 and later (BIP-173, BIP-350; ``bech32m``,
  the reference implementation, which also checks the version/encoding pairing and program lengths).
- Ethereum: EIP-55 mixed-case checksum over keccak-256 (``pycryptodome``). An all-lower-case or
  all-upper-case address is valid but carries no checksum.
- TRON: base58check with version byte 0x41 (``T...``).

Only mainnet addresses are looked for: test coins are not a payment channel. A string of the right
shape whose checksum fails is still reported, as FAILED: it is evidence of intent, not a join key.
"""

from __future__ import annotations

import re

import base58
import bech32m
from Crypto.Hash import keccak

from suraksha.rules.found import Found
from suraksha.rules.models import ChecksumStatus, EntityKind, EntityTag

_B58 = "1-9A-HJ-NP-Za-km-z"
_BITCOIN_LEGACY = re.compile(rf"(?<![0-9A-Za-z])[13][{_B58}]{{25,34}}(?![0-9A-Za-z])")
_BITCOIN_SEGWIT = re.compile(r"(?<![0-9A-Za-z])(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}(?![0-9A-Za-z])")
_ETHEREUM = re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])")
_TRON = re.compile(rf"(?<![0-9A-Za-z])T[{_B58}]{{33}}(?![0-9A-Za-z])")

_P2PKH, _P2SH, _TRON_VERSION = 0x00, 0x05, 0x41


def find_wallets(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _BITCOIN_LEGACY.finditer(text):
        found.append(_bitcoin_legacy(match.group(), match.start(), match.end()))
    for match in _BITCOIN_SEGWIT.finditer(text):
        found.append(_bitcoin_segwit(match.group(), match.start(), match.end()))
    for match in _ETHEREUM.finditer(text):
        address = match.group()
        found.append(
            Found(EntityKind.ETHEREUM_ADDRESS, address.lower(), match.start(), match.end(), eip55(address))
        )
    for match in _TRON.finditer(text):
        payload = _base58check(match.group())
        ok = payload is not None and len(payload) == 21 and payload[0] == _TRON_VERSION
        status = ChecksumStatus.VERIFIED if ok else ChecksumStatus.FAILED
        found.append(Found(EntityKind.TRON_ADDRESS, match.group(), match.start(), match.end(), status))
    return found


def _base58check(text: str) -> bytes | None:
    try:
        return base58.b58decode_check(text)
    except ValueError:
        return None


def _bitcoin_legacy(address: str, start: int, end: int) -> Found:
    payload = _base58check(address)
    if payload is None or len(payload) != 21 or payload[0] not in (_P2PKH, _P2SH):
        return Found(EntityKind.BITCOIN_ADDRESS, address, start, end, ChecksumStatus.FAILED)
    tag = EntityTag.P2PKH if payload[0] == _P2PKH else EntityTag.P2SH
    return Found(EntityKind.BITCOIN_ADDRESS, address, start, end, ChecksumStatus.VERIFIED, (tag,))


def _bitcoin_segwit(address: str, start: int, end: int) -> Found:
    canonical = address.lower()
    try:
        decoded = bech32m.decode("bc", address)
    except bech32m.DecodeError:
        return Found(EntityKind.BITCOIN_ADDRESS, canonical, start, end, ChecksumStatus.FAILED)
    tag = EntityTag.SEGWIT if decoded.witver == 0 else EntityTag.TAPROOT
    return Found(EntityKind.BITCOIN_ADDRESS, canonical, start, end, ChecksumStatus.VERIFIED, (tag,))


def eip55(address: str) -> ChecksumStatus:
    """EIP-55: each hex letter is upper-case exactly when its nibble of keccak256(lower hex) is >= 8."""
    digits = address[2:]
    if digits == digits.lower() or digits == digits.upper():
        return ChecksumStatus.UNCHECKSUMMED
    digest = keccak.new(digest_bits=256, data=digits.lower().encode("ascii")).hexdigest()
    for char, nibble in zip(digits, digest, strict=False):
        if char.isalpha() and char.isupper() != (int(nibble, 16) >= 8):
            return ChecksumStatus.FAILED
    return ChecksumStatus.VERIFIED
