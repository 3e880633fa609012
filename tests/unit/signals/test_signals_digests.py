"""MD5 and SHA-256 of bytes and of files."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from suraksha.signals import digests


def test_known_vectors() -> None:
    assert digests.md5_of_bytes(b"") == "d41d8cd98f00b204e9800998ecf8427e"
    assert digests.sha256_of_bytes(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert digests.md5_of_bytes(b"abc") == "900150983cd24fb0d6963f7d28e17f72"


@given(st.binary(max_size=5000))
def test_bytes_and_stream_agree(data: bytes) -> None:
    expected = digests.FileDigests(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))
    assert digests.digests_of_bytes(data) == expected
    assert digests.digests_of_file(io.BytesIO(data)) == expected


def test_file_streams_in_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * (3 * digests.READ_CHUNK // 256 + 7)  # several chunks and a tail
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    expected = digests.digests_of_bytes(data)
    assert digests.digests_of_file(path) == expected
    assert digests.digests_of_file(str(path)) == expected
    with path.open("rb") as handle:
        handle.read(10)
        assert digests.digests_of_file(handle).size == len(data) - 10  # from the current position
