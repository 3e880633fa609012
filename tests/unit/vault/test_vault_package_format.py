"""Every single-byte change of a (small) package is detected: flip each byte in turn, two ways."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from suraksha.vault import crypto
from suraksha.vault.packages import FORMAT, MANIFEST, SIGNATURE, verify_package, write_canonical_zip


@pytest.mark.slow
def test_every_byte_of_a_package_is_covered(tmp_path: Path) -> None:
    signing = crypto.signing_key_from_text(crypto.generate_signing_key_text())
    created = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
    entries = [
        ("custody.json", b'{"rows": []}'),
        ("files/1/media-0.bin", bytes(range(256))),
        ("files/1/snapshot.json", b'{"item": 1}'),
    ]
    files = [{"path": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in entries]
    manifest = json.dumps({"format": FORMAT, "created_at": created.isoformat(), "files": files}).encode()
    package = tmp_path / "p.zip"
    with open(package, "wb") as f:
        write_canonical_zip(f, [(MANIFEST, manifest), (SIGNATURE, signing.sign(manifest)), *entries], created)
    public = signing.public_key()
    assert verify_package(package, public).ok
    original = package.read_bytes()
    changed_path = tmp_path / "changed.zip"
    missed = []
    for position in range(len(original)):
        for flip in (0x01, 0x80):
            changed = bytearray(original)
            changed[position] ^= flip
            changed_path.write_bytes(bytes(changed))
            if verify_package(changed_path, public).ok:
                missed.append((position, flip))
    assert missed == []
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(original[:-1])
    assert not verify_package(truncated, public).ok
    appended = tmp_path / "appended.zip"
    appended.write_bytes(original + b"\0")
    assert not verify_package(appended, public).ok
