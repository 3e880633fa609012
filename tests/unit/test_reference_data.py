"""The reference data: fetched at pinned versions with checksums, and never skipped under CI."""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import reference_data

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests" / "reference" / "manifest.tsv"
UPSTREAM = "https://raw.githubusercontent.com"


def manifest() -> list[tuple[str, str, str]]:
    rows = [line.split("\t") for line in MANIFEST.read_text().splitlines() if line and line[0] != "#"]
    return [(path, sha, source) for path, sha, source in rows]


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """A local mirror of the upstream layout over real HTTP, serving the reference files we have (or
    whatever a test puts in ``served``)."""
    source_dir = reference_data.require()
    served = {
        source[len(UPSTREAM) :]: (source_dir / path).read_bytes()
        for path, _, source in manifest()
        if source.startswith(UPSTREAM)
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def fetch(dest: Path, mirror_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SURAKSHA_TESTDATA_MIRROR": mirror_url}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch-testdata"), str(dest)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_manifest_pins_every_reference_file_by_checksum() -> None:
    rows = manifest()
    assert len({path for path, _, _ in rows}) == len(rows) == 61
    for path, sha, source in rows:
        assert len(sha) == 64 and (source == "repo" or "/baefb4ed" in source or "/c9dee9be" in source), path
        if source == "repo":
            assert hashlib.sha256((MANIFEST.parent / path).read_bytes()).hexdigest() == sha, path


def test_fetch_writes_every_file_checked_and_keeps_what_is_there(
    tmp_path: Path, mirror: tuple[str, dict[str, bytes]]
) -> None:
    url, _ = mirror
    done = fetch(tmp_path / "data", url)
    assert done.returncode == 0, done.stderr
    for path, sha, _ in manifest():
        assert hashlib.sha256((tmp_path / "data" / path).read_bytes()).hexdigest() == sha
    again = fetch(tmp_path / "data", url)
    assert again.returncode == 0 and "0 fetched, 61 already there" in again.stderr


def test_fetch_refuses_a_file_whose_checksum_differs(
    tmp_path: Path, mirror: tuple[str, dict[str, bytes]]
) -> None:
    url, served = mirror
    tampered = next(k for k in served if k.endswith("/cyber_tipline.xsd"))
    served[tampered] = served[tampered] + b"<!-- changed -->"
    done = fetch(tmp_path / "data", url)
    assert done.returncode == 1
    assert "ncmec/cyber_tipline.xsd: SHA-256" in done.stderr and "not written" in done.stderr
    assert not (tmp_path / "data" / "ncmec" / "cyber_tipline.xsd").exists()


def test_missing_reference_data_fails_under_ci_and_skips_elsewhere(tmp_path: Path) -> None:
    probe = "tests/unit/signals/test_signals_pdq_vectors.py"
    env = {**os.environ, "SURAKSHA_TESTDATA": str(tmp_path / "absent")}
    for ci, expected in (("true", "failed"), ("false", "skipped")):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", probe],
            env={**env, "CI": ci},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        tail = done.stdout.strip().splitlines()[-1]
        assert expected in tail or (ci == "true" and "error" in tail), (ci, done.stdout[-2000:])
        assert (done.returncode != 0) == (ci == "true"), done.stdout[-2000:]
