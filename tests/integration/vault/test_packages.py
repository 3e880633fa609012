"""Signed evidence packages: built from the vault by the legal role, audited, and verified offline; one
changed byte anywhere in the zip is detected."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from suraksha.audit import AuditEvent
from suraksha.errors import Forbidden
from suraksha.intake.pipeline import Pipeline
from suraksha.vault import crypto
from suraksha.vault.packages import build_package, verify_package
from suraksha.vault.services import EvidenceActor, EvidenceVault, preserve
from tests.integration.vault.support import REPOST, legal_actor, matched_item


@pytest.fixture
def package(pipeline: Pipeline, vault: EvidenceVault, tmp_path: Path) -> Path:
    _, decision_id = matched_item(pipeline)
    pid = preserve(pipeline.db, vault, decision_id)
    assert pid is not None
    with pipeline.db.session() as s:
        built = build_package(
            s,
            vault,
            [pid],
            tmp_path / "out" / "case.zip",
            actor=legal_actor(),
            reason="FIR 7/2026",
            purpose="police",
        )
    assert built.files == 2  # media and snapshot (custody.json besides)
    return built.path


def _public(vault: EvidenceVault) -> crypto.Ed25519PublicKey:  # type: ignore[name-defined]
    assert vault.signing_key is not None
    return crypto.verify_key_from_text(
        crypto.verify_key_text(crypto.signing_key_from_text(vault.signing_key))
    )


def test_a_package_verifies_and_holds_files_manifest_custody(
    package: Path, vault: EvidenceVault, pipeline: Pipeline
) -> None:
    check = verify_package(package, _public(vault))
    assert check.ok, check.problems
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        assert names[:3] == ["manifest.json", "manifest.sig", "custody.json"]
        media = [n for n in names if n.endswith("media-0.jpg")]
        assert archive.read(media[0]) == REPOST
        custody = json.loads(archive.read("custody.json"))
        assert {"vault:preserve", "vault:hold_place"} <= {r["action"] for r in custody["rows"]}
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["created_by"] == "user:legal1" and manifest["reason"] == "FIR 7/2026"
    with pipeline.db.reading() as s:
        [row] = s.scalars(select(AuditEvent).where(AuditEvent.action == "export:create")).all()
        assert json.loads(row.details)["manifest_sha256"]


def test_another_key_does_not_verify(package: Path) -> None:
    other = crypto.verify_key_from_text(
        crypto.verify_key_text(crypto.signing_key_from_text(crypto.generate_signing_key_text()))
    )
    check = verify_package(package, other)
    assert not check.ok and "signature" in check.problems[0]


def test_only_legal_exports(pipeline: Pipeline, vault: EvidenceVault, tmp_path: Path) -> None:
    _, decision_id = matched_item(pipeline)
    pid = preserve(pipeline.db, vault, decision_id)
    assert pid is not None
    with pipeline.db.session() as s, pytest.raises(Forbidden):
        build_package(
            s,
            vault,
            [pid],
            tmp_path / "x.zip",
            actor=EvidenceActor("user:x", frozenset({"lead"})),
            reason="r",
        )
    assert not (tmp_path / "x.zip").exists()


def test_extra_or_compressed_entries_are_refused(package: Path, vault: EvidenceVault, tmp_path: Path) -> None:
    tampered = tmp_path / "extra.zip"
    tampered.write_bytes(package.read_bytes())
    with zipfile.ZipFile(tampered, "a") as archive:
        archive.writestr("files/1/extra.txt", b"added later")
    assert not verify_package(tampered, _public(vault)).ok
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", b"0" * 10_000_000)
    check = verify_package(bomb, _public(vault))
    assert not check.ok and "compressed" in check.problems[0]
    assert not verify_package(package, _public(vault), max_bytes=1000).ok


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_byte_is_detected(
    package: Path, vault: EvidenceVault, tmp_path: Path, data: st.DataObject
) -> None:
    original = package.read_bytes()
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    flip = data.draw(st.integers(1, 255), label="xor")
    changed = bytearray(original)
    changed[position] ^= flip
    target = tmp_path / "changed.zip"
    target.write_bytes(bytes(changed))
    assert not verify_package(target, _public(vault)).ok, (
        f"byte {position} of {len(original)} changed unnoticed"
    )


@pytest.mark.parametrize("region", ["manifest", "signature", "media", "end"])
def test_a_changed_byte_in_each_part_is_detected(
    package: Path, vault: EvidenceVault, tmp_path: Path, region: str
) -> None:
    original = package.read_bytes()
    with zipfile.ZipFile(package) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    media = next(n for n in infos if n.endswith(".jpg"))
    offsets = {
        "manifest": infos["manifest.json"].header_offset + 60,
        "signature": infos["manifest.sig"].header_offset + 50,
        "media": infos[media].header_offset + 200,
        "end": len(original) - 3,
    }
    changed = bytearray(original)
    changed[offsets[region]] ^= 0x01
    target = tmp_path / "changed.zip"
    target.write_bytes(bytes(changed))
    assert not verify_package(target, _public(vault)).ok
