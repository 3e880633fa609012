"""Envelope encryption of evidence blobs, and the package signing keys.

Each blob is encrypted with AES-256-GCM under its own random 256-bit data key; the data key is itself
encrypted ("wrapped", AES-256-GCM again) under the key-encryption key (KEK) that comes from the
environment (setting ``vault_kek``). Rotating the KEK therefore rewrites only the small wrapped keys in
the database, never the blobs. Both encryptions bind the blob's plaintext SHA-256 as associated data,
so a wrapped key or a ciphertext moved onto another blob's row fails to open instead of decrypting to
the wrong evidence.

Formats (version 1):
- ciphertext (what the storage backend holds): ``b"SV1" + nonce(12) + AES-GCM(data key, plaintext,
  aad = b"suraksha-vault-blob:" + sha256 hex)``
- wrapped key (stored in the blob's row): ``b"SK1" + nonce(12) + AES-GCM(KEK, data key,
  aad = b"suraksha-vault-key:" + key id + b":" + sha256 hex)``
- a KEK is given as base64 of 32 random bytes; its key id is ``kek-`` and the first 16 hex digits of
  SHA-256 over ``b"suraksha-kek-id:" + key``, so the id names the key without revealing it.
- a sealed envelope (media kept for review, in the media store: the file alone opens with the KEK):
  ``b"SM1" + len(key id) (1 byte) + key id + len(wrapped key) (2 bytes, big-endian) + wrapped key +
  ciphertext``, the wrapped key and ciphertext as above. One data key per file and no key derivation:
  sealing costs two AES-GCM passes, cheap enough for every upload.
- the package signing key is base64 of a 32-byte Ed25519 private key (seed); the verify key is base64
  of the 32-byte raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from suraksha.errors import ConfigError, SurakshaError
from suraksha.settings import Secret

BLOB_MAGIC = b"SV1"
KEY_MAGIC = b"SK1"
NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionFailed(SurakshaError):
    """A blob or a wrapped key did not authenticate: the wrong key, or stored bytes that were changed."""


@dataclass(frozen=True)
class KeyEncryptionKey:
    """A KEK. ``repr`` never shows the key."""

    key_id: str
    key: bytes

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(key_id={self.key_id!r})"

    @classmethod
    def from_text(cls, value: str | Secret, *, setting: str = "vault_kek") -> KeyEncryptionKey:
        """Parse base64 of 32 bytes; a bad value is a ConfigError naming the setting (never the value)."""
        raw = value.reveal() if isinstance(value, Secret) else value
        try:
            key = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ConfigError(
                f"{setting} must be base64 of {KEY_BYTES} random bytes "
                "(make one with `suraksha vault keygen`)"
            )
        return cls(kek_id(key), key)

    @classmethod
    def generate(cls) -> KeyEncryptionKey:
        key = AESGCM.generate_key(bit_length=256)
        return cls(kek_id(key), key)

    def to_text(self) -> str:
        return base64.b64encode(self.key).decode()


def kek_id(key: bytes) -> str:
    return "kek-" + hashlib.sha256(b"suraksha-kek-id:" + key).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    """The current KEK (new blobs) and, during a rotation, the previous one (still opens old blobs)."""

    current: KeyEncryptionKey
    previous: KeyEncryptionKey | None = None

    def get(self, key_id: str) -> KeyEncryptionKey:
        for kek in (self.current, self.previous):
            if kek is not None and kek.key_id == key_id:
                return kek
        raise ConfigError(
            f"blob is wrapped under key {key_id}, which is neither vault_kek ({self.current.key_id}) nor "
            "vault_kek_previous: set the KEK it was made with, or finish `suraksha vault rotate-key`"
        )


@dataclass(frozen=True)
class SealedBlob:
    sha256: str
    size: int
    ciphertext: bytes
    wrapped_key: bytes
    key_id: str


def _blob_aad(sha256: str) -> bytes:
    return b"suraksha-vault-blob:" + sha256.encode()


def _key_aad(key_id: str, sha256: str) -> bytes:
    return b"suraksha-vault-key:" + key_id.encode() + b":" + sha256.encode()


def wrap_key(data_key: bytes, kek: KeyEncryptionKey, sha256: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return KEY_MAGIC + nonce + AESGCM(kek.key).encrypt(nonce, data_key, _key_aad(kek.key_id, sha256))


def unwrap_key(wrapped: bytes, kek: KeyEncryptionKey, sha256: str) -> bytes:
    if not wrapped.startswith(KEY_MAGIC) or len(wrapped) < len(KEY_MAGIC) + NONCE_BYTES + 16:
        raise DecryptionFailed(f"the wrapped data key of blob {sha256} is not in the SK1 format")
    nonce, body = wrapped[3 : 3 + NONCE_BYTES], wrapped[3 + NONCE_BYTES :]
    try:
        return AESGCM(kek.key).decrypt(nonce, body, _key_aad(kek.key_id, sha256))
    except InvalidTag:
        raise DecryptionFailed(
            f"the data key of blob {sha256} does not open under {kek.key_id} (wrong KEK or a changed row)"
        ) from None


def seal(plaintext: bytes, kek: KeyEncryptionKey, *, sha256: str | None = None) -> SealedBlob:
    """Encrypt under a fresh data key; the data key wrapped under ``kek``. ``sha256``: the plaintext's
    digest when the caller has just computed it (it is bound into both encryptions)."""
    sha256 = sha256 or hashlib.sha256(plaintext).hexdigest()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = BLOB_MAGIC + nonce + AESGCM(data_key).encrypt(nonce, plaintext, _blob_aad(sha256))
    return SealedBlob(sha256, len(plaintext), ciphertext, wrap_key(data_key, kek, sha256), kek.key_id)


def unseal(ciphertext: bytes, wrapped_key: bytes, kek: KeyEncryptionKey, sha256: str) -> bytes:
    """Decrypt and check that the plaintext is the evidence it claims to be (its SHA-256)."""
    data_key = unwrap_key(wrapped_key, kek, sha256)
    if not ciphertext.startswith(BLOB_MAGIC) or len(ciphertext) < len(BLOB_MAGIC) + NONCE_BYTES + 16:
        raise DecryptionFailed(f"stored blob {sha256} is not in the SV1 format")
    nonce, body = ciphertext[3 : 3 + NONCE_BYTES], ciphertext[3 + NONCE_BYTES :]
    try:
        plaintext = AESGCM(data_key).decrypt(nonce, body, _blob_aad(sha256))
    except InvalidTag:
        raise DecryptionFailed(
            f"stored blob {sha256} does not authenticate (its bytes were changed)"
        ) from None
    if hashlib.sha256(plaintext).hexdigest() != sha256:  # pragma: no cover - GCM already bound the digest
        raise DecryptionFailed(f"stored blob {sha256} decrypts to other content")
    return plaintext


def rewrap(wrapped_key: bytes, old: KeyEncryptionKey, new: KeyEncryptionKey, sha256: str) -> bytes:
    return wrap_key(unwrap_key(wrapped_key, old, sha256), new, sha256)


# -- sealed envelopes (the media store) ------------------------------------------------------------

ENVELOPE_MAGIC = b"SM1"


def keyring_from(kek: Secret | str | None, previous: Secret | str | None = None) -> Keyring:
    """The keyring of the configured KEKs; a ConfigError that says what to set when the current one is
    missing."""
    if not kek:
        raise ConfigError(
            "media and evidence are kept encrypted at rest, under the vault's key-encryption key: set "
            "SURAKSHA_VAULT_KEK (base64 of 32 random bytes; `suraksha vault keygen` makes one) in the "
            "environment of every web, worker and CLI process"
        )
    current = KeyEncryptionKey.from_text(kek)
    old = KeyEncryptionKey.from_text(previous, setting="vault_kek_previous") if previous else None
    return Keyring(current, old)


def seal_envelope(plaintext: bytes, kek: KeyEncryptionKey, *, sha256: str | None = None) -> bytes:
    """``plaintext`` sealed under a fresh data key, with its wrapped key and key id in front."""
    return _envelope(seal(plaintext, kek, sha256=sha256))


def _envelope(blob: SealedBlob) -> bytes:
    key_id = blob.key_id.encode()
    return (
        ENVELOPE_MAGIC
        + bytes([len(key_id)])
        + key_id
        + len(blob.wrapped_key).to_bytes(2, "big")
        + blob.wrapped_key
        + blob.ciphertext
    )


def is_envelope(data: bytes) -> bool:
    return data.startswith(ENVELOPE_MAGIC)


def split_envelope(envelope: bytes, sha256: str) -> tuple[str, bytes, bytes]:
    """(key id, wrapped key, ciphertext) of a sealed envelope."""
    try:
        if not envelope.startswith(ENVELOPE_MAGIC):
            raise ValueError
        at = len(ENVELOPE_MAGIC)
        id_length = envelope[at]
        key_id = envelope[at + 1 : at + 1 + id_length].decode("ascii")
        at += 1 + id_length
        key_length = int.from_bytes(envelope[at : at + 2], "big")
        wrapped = envelope[at + 2 : at + 2 + key_length]
        ciphertext = envelope[at + 2 + key_length :]
        if len(wrapped) != key_length or not key_id:
            raise ValueError
    except (IndexError, ValueError, UnicodeDecodeError):
        raise DecryptionFailed(f"stored file {sha256} is not a sealed envelope (SM1)") from None
    return key_id, wrapped, ciphertext


def open_envelope(envelope: bytes, keyring: Keyring, sha256: str) -> bytes:
    """The plaintext of a sealed envelope, checked to be the file ``sha256`` names."""
    key_id, wrapped, ciphertext = split_envelope(envelope, sha256)
    return unseal(ciphertext, wrapped, keyring.get(key_id), sha256)


def rewrap_envelope(envelope: bytes, keyring: Keyring, sha256: str) -> bytes | None:
    """The envelope with its data key wrapped under the current KEK; None when it already is. The
    ciphertext is kept as it is (a rotation rewrites a few bytes of key, not the file's content)."""
    key_id, wrapped, ciphertext = split_envelope(envelope, sha256)
    if key_id == keyring.current.key_id:
        return None
    new = rewrap(wrapped, keyring.get(key_id), keyring.current, sha256)
    return _envelope(SealedBlob(sha256, 0, ciphertext, new, keyring.current.key_id))


class EnvelopeCipher:
    """Seals what the media store keeps under the vault's KEK (``suraksha.intake.store.MediaCipher``):
    matched media kept for reviewers is evidence too, and is never written to disk in plain. The keys
    are read at first use, so a process that never stores media needs none."""

    def __init__(
        self, kek: KeyEncryptionKey | Secret | str | None, previous: Secret | str | None = None
    ) -> None:
        self._kek, self._previous = kek, previous
        self._keyring: Keyring | None = None

    def __repr__(self) -> str:
        return "EnvelopeCipher()"

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            kek = self._kek
            if isinstance(kek, KeyEncryptionKey):
                self._keyring = Keyring(kek)
            else:
                self._keyring = keyring_from(kek, self._previous)
        return self._keyring

    def seal(self, data: bytes, sha256: str) -> bytes:
        return seal_envelope(data, self.keyring.current, sha256=sha256)

    def open(self, stored: bytes, sha256: str) -> bytes:
        return open_envelope(stored, self.keyring, sha256)

    def is_sealed(self, stored: bytes) -> bool:
        return is_envelope(stored)

    def rewrap(self, stored: bytes, sha256: str) -> bytes | None:
        return rewrap_envelope(stored, self.keyring, sha256)


# -- package signing --------------------------------------------------------------------------------


def _b64_32(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{what} must be base64 of 32 bytes (make one with `suraksha vault keygen`)")
    return raw


def signing_key_from_text(value: str | Secret) -> Ed25519PrivateKey:
    raw = value.reveal() if isinstance(value, Secret) else value
    return Ed25519PrivateKey.from_private_bytes(_b64_32(raw, "vault_signing_key"))


def verify_key_from_text(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_b64_32(value, "the package verify (public) key"))


def verify_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def generate_signing_key_text() -> str:
    key = Ed25519PrivateKey.generate()
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


def signature_ok(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True
