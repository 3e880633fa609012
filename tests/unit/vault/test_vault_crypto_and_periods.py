"""Envelope encryption, key ids, signing keys and hold periods: pure, no database."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suraksha.errors import ConfigError, InvalidInput
from suraksha.settings import Secret
from suraksha.vault import crypto
from suraksha.vault.holds import HoldPeriods
from suraksha.vault.ports import FilesystemBlobStorage, object_name


@given(st.binary(max_size=4096))
def test_seal_round_trips_and_binds_the_digest(data: bytes) -> None:
    kek = crypto.KeyEncryptionKey.generate()
    sealed = crypto.seal(data, kek)
    assert sealed.sha256 == hashlib.sha256(data).hexdigest() and sealed.key_id == kek.key_id
    assert crypto.unseal(sealed.ciphertext, sealed.wrapped_key, kek, sealed.sha256) == data
    other = hashlib.sha256(data + b"x").hexdigest()
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unseal(sealed.ciphertext, sealed.wrapped_key, kek, other)


def test_wrong_key_changed_bytes_and_rewrap() -> None:
    kek, new = crypto.KeyEncryptionKey.generate(), crypto.KeyEncryptionKey.generate()
    sealed = crypto.seal(b"benign evidence bytes", kek)
    with pytest.raises(crypto.DecryptionFailed, match="does not open"):
        crypto.unseal(sealed.ciphertext, sealed.wrapped_key, new, sealed.sha256)
    changed = bytearray(sealed.ciphertext)
    changed[-1] ^= 1
    with pytest.raises(crypto.DecryptionFailed, match="changed"):
        crypto.unseal(bytes(changed), sealed.wrapped_key, kek, sealed.sha256)
    rewrapped = crypto.rewrap(sealed.wrapped_key, kek, new, sealed.sha256)
    assert crypto.unseal(sealed.ciphertext, rewrapped, new, sealed.sha256) == b"benign evidence bytes"


def test_keys_parse_from_settings_and_never_show() -> None:
    kek = crypto.KeyEncryptionKey.generate()
    parsed = crypto.KeyEncryptionKey.from_text(Secret(kek.to_text()))
    assert parsed == kek and kek.to_text() not in repr(parsed) and parsed.key_id.startswith("kek-")
    with pytest.raises(ConfigError, match="vault_kek must be base64") as caught:
        crypto.KeyEncryptionKey.from_text("c2hvcnQ=")
    assert "c2hvcnQ" not in str(caught.value)
    keyring = crypto.Keyring(kek)
    with pytest.raises(ConfigError, match="vault_kek_previous"):
        keyring.get("kek-0000000000000000")
    signing = crypto.generate_signing_key_text()
    public = crypto.verify_key_from_text(crypto.verify_key_text(crypto.signing_key_from_text(signing)))
    signature = crypto.signing_key_from_text(signing).sign(b"manifest")
    assert crypto.signature_ok(public, signature, b"manifest")
    assert not crypto.signature_ok(public, signature, b"manifesT")


def test_hold_periods() -> None:
    periods = HoldPeriods.parse("law_enforcement_request@IN=60, extra_basis=10")
    assert periods.period("cybertipline_report").days == 365
    assert periods.period("india_it_rules_3_1_g").days == 180
    assert periods.period("law_enforcement_request").days == 90
    assert periods.period("law_enforcement_request", "IN").days == 60
    assert periods.period("extra_basis", "US").days == 10
    with pytest.raises(InvalidInput, match="no hold period"):
        periods.period("nothing")
    for bad in ("x=0", "x=abc", "X@IN=3", "x@india=3", "=3"):
        with pytest.raises(ConfigError, match="vault_hold_periods"):
            HoldPeriods.parse(bad)


def test_filesystem_storage_is_atomic_and_bounded(tmp_path: Path) -> None:
    storage = FilesystemBlobStorage(tmp_path, max_bytes=100)
    name = object_name("a" * 64)
    storage.put(name, b"ciphertext")
    assert storage.get(name) == b"ciphertext" and storage.exists(name)
    assert not list(tmp_path.rglob("*.tmp"))
    with pytest.raises(InvalidInput, match="over the limit"):
        storage.put(name, b"x" * 101)
    with pytest.raises(InvalidInput, match="not a vault object name"):
        storage.get("../../etc/passwd")
    storage.delete(name)
    storage.delete(name)
    assert storage.get(name) is None


@given(st.binary(min_size=1, max_size=4096))
def test_a_sealed_envelope_opens_alone_with_the_kek_and_only_as_itself(data: bytes) -> None:
    old, new = crypto.KeyEncryptionKey.generate(), crypto.KeyEncryptionKey.generate()
    sha256 = hashlib.sha256(data).hexdigest()
    envelope = crypto.seal_envelope(data, old)
    assert crypto.is_envelope(envelope) and crypto.split_envelope(envelope, sha256)[0] == old.key_id
    assert crypto.open_envelope(envelope, crypto.Keyring(old), sha256) == data
    with pytest.raises(crypto.DecryptionFailed):  # the file under another file's name
        crypto.open_envelope(envelope, crypto.Keyring(old), hashlib.sha256(data + b"x").hexdigest())
    changed = bytearray(envelope)
    changed[-1] ^= 0x01
    with pytest.raises(crypto.DecryptionFailed):
        crypto.open_envelope(bytes(changed), crypto.Keyring(old), sha256)
    with pytest.raises(ConfigError, match="neither vault_kek"):
        crypto.open_envelope(envelope, crypto.Keyring(new), sha256)
    rotating = crypto.Keyring(new, old)
    rewrapped = crypto.rewrap_envelope(envelope, rotating, sha256)
    assert rewrapped is not None and crypto.rewrap_envelope(rewrapped, rotating, sha256) is None
    assert rewrapped.endswith(crypto.split_envelope(envelope, sha256)[2])  # the ciphertext is kept
    assert crypto.open_envelope(rewrapped, crypto.Keyring(new), sha256) == data


def test_an_envelope_cipher_without_a_kek_says_what_to_set() -> None:
    cipher = crypto.EnvelopeCipher(None)
    with pytest.raises(ConfigError, match="SURAKSHA_VAULT_KEK") as refused:
        cipher.seal(b"x", hashlib.sha256(b"x").hexdigest())
    assert "vault keygen" in str(refused.value)
    with pytest.raises(crypto.DecryptionFailed, match="not a sealed envelope"):
        crypto.split_envelope(b"SM1", "0" * 64)
