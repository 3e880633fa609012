"""Evidence export packages: a signed zip anyone can check offline with the public key.

Layout (format ``suraksha-evidence-package/1``), entries in this order, all stored (uncompressed):

- ``manifest.json``: what the package is (preservations, who exported it, why, when), and for every
  other file its path, size and SHA-256.
- ``manifest.sig``: the detached Ed25519 signature (64 raw bytes) over the exact bytes of
  ``manifest.json``.
- ``custody.json``: the custody log excerpt: the audit rows about this evidence (preservation, holds,
  accesses, purges), each with its place and hashes in the hash-chained audit log.
- ``files/<preservation id>/<name>``: the preserved files, decrypted.

Verification (``verify_package``) checks the signature, then every file against the manifest, and then
that the zip itself is byte for byte the canonical zip of those entries (fixed timestamps, no extra
fields, no comments): so a change to *any* byte of the package is detected, not only changes to file
contents. It reads under limits (size, entry count, stored entries only), so a zip bomb is refused
before anything is inflated.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.errors import ConfigError, InvalidInput, NotFound
from suraksha.files import private_dir
from suraksha.permissions import Permission
from suraksha.vault import crypto
from suraksha.vault.models import Preservation, VaultAudit
from suraksha.vault.services import EvidenceActor, EvidenceVault, check_reason, preservation_dict

FORMAT = "suraksha-evidence-package/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CUSTODY = "custody.json"
MAX_ENTRIES = 10_000
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_CUSTODY_ROWS = 5000
CHUNK = 1024 * 1024


AUDIT_IDS = 100
"""Preservation ids named in an export's audit row (audit details stay small; the signed manifest,
whose SHA-256 the row holds, names them all)."""


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second - when.second % 2)


def _canonical_info(name: str, size: int, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    info.file_size = size  # decides zip64 exactly as writestr would
    return info


def _canonical_writer(target: IO[bytes]) -> zipfile.ZipFile:
    return zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True)


def write_canonical_zip(target: IO[bytes], entries: Iterable[tuple[str, bytes]], when: datetime) -> None:
    """The one way a package's zip is laid out; verification rebuilds it and compares bytes."""
    stamp = _zip_time(when)
    with _canonical_writer(target) as archive:
        for name, data in entries:
            archive.writestr(_canonical_info(name, len(data), stamp), data)


def custody_excerpt(session: Session, subjects: Sequence[str]) -> tuple[list[dict[str, Any]], bool]:
    """Audit rows whose subject is one of ``subjects``, oldest first (at most MAX_CUSTODY_ROWS; the
    second value says whether there were more)."""
    rows = list(
        session.scalars(
            select(audit.AuditEvent)
            .where(audit.AuditEvent.subject.in_(sorted(set(subjects))))
            .order_by(audit.AuditEvent.id)
            .limit(MAX_CUSTODY_ROWS + 1)
        )
    )
    return [audit.event_dict(r) for r in rows[:MAX_CUSTODY_ROWS]], len(rows) > MAX_CUSTODY_ROWS


@dataclass(frozen=True)
class BuiltPackage:
    path: Path
    manifest_sha256: str
    files: int
    size: int

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "manifest_sha256": self.manifest_sha256,
            "files": self.files,
            "size": self.size,
        }


def build_package(
    session: Session,
    vault: EvidenceVault,
    preservation_ids: Sequence[int],
    out: str | os.PathLike[str],
    *,
    actor: EvidenceActor,
    reason: str,
    purpose: str = "",
) -> BuiltPackage:
    """Write a signed evidence package of these preservations to ``out``.

    Legal role only, with a reason; the export is audited (``export:create``, naming the manifest's
    SHA-256) in the caller's transaction, and the file appears at ``out`` only after that audit row is
    written. Purged files are listed in the manifest's preservations but cannot be included."""
    actor.require(Permission.EVIDENCE_OPEN, "export evidence")
    reason = check_reason(reason)
    if not preservation_ids:
        raise InvalidInput("name at least one preservation to export")
    if not vault.signing_key:
        raise ConfigError(
            "evidence packages are signed: set SURAKSHA_VAULT_SIGNING_KEY (`suraksha vault keygen` makes one)"
        )
    signing_key = crypto.signing_key_from_text(vault.signing_key)
    created = utcnow().replace(microsecond=0)
    preservations: list[Preservation] = []
    for pid in dict.fromkeys(preservation_ids):
        found = session.get(Preservation, pid)
        if found is None:
            raise NotFound(f"preservation {pid} does not exist (`suraksha vault list`)")
        preservations.append(found)
    total = sum(f.blob.size for p in preservations for f in p.files if f.blob.purged_at is None)
    if total > vault.package_max_bytes:
        raise InvalidInput(
            f"the package would hold {total} bytes, over vault_package_max_bytes "
            f"({vault.package_max_bytes}): "
            "export fewer preservations at a time"
        )
    entries: list[tuple[str, bytes]] = []
    subjects: list[str] = []
    for p in preservations:
        subjects += [f"preservation:{p.id}", f"decision:{p.decision_id}", f"item:{p.item_id}"]
        for f in p.files:
            subjects.append(f"vault_blob:{f.blob.sha256}")
            if f.blob.purged_at is None:
                entries.append((f"files/{p.id}/{f.name}", vault.read_blob(f.blob)))
    custody, truncated = custody_excerpt(session, subjects)
    custody_bytes = json.dumps(
        {"rows": custody, "truncated": truncated, "chain_format": 1}, indent=2, sort_keys=True
    ).encode()
    entries.insert(0, (CUSTODY, custody_bytes))
    manifest = {
        "format": FORMAT,
        "created_at": created.isoformat(),
        "created_by": actor.name,
        "reason": reason,
        "purpose": purpose,
        "preservations": [preservation_dict(p) for p in preservations],
    }

    def record(manifest_sha256: str) -> None:
        audit.record(
            session,
            actor.name,
            VaultAudit.EXPORT,
            f"package:{manifest_sha256[:32]}",
            {
                "manifest_sha256": manifest_sha256,
                # the manifest names every preservation; the audit row names the first ones and how many
                "preservations": [p.id for p in preservations[:AUDIT_IDS]],
                "preservation_count": len(preservations),
                "files": len(entries) - 1,
                "reason": reason,
                "purpose": purpose[:200],
            },
        )
        session.flush()

    built = write_signed_package(Path(out), manifest, entries, signing_key, created, before_publish=record)
    return BuiltPackage(built.path, built.manifest_sha256, len(entries) - 1, built.size)


def write_signed_package(
    target: Path,
    manifest: dict[str, Any],
    entries: Sequence[tuple[str, bytes]],
    signing_key: Ed25519PrivateKey,
    created: datetime,
    *,
    before_publish: Callable[[str], None],
) -> BuiltPackage:
    """Sign ``manifest`` (to which the verify key and every entry's path, size and SHA-256 are added) and
    write the canonical zip to ``target``. ``before_publish(manifest_sha256)`` runs (the caller's
    audit row) before the file appears at ``target``: a package nobody recorded never exists."""
    manifest = {
        **manifest,
        "verify_key": crypto.verify_key_text(signing_key),
        "files": [
            {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in entries
        ],
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True).encode()
    signature = signing_key.sign(manifest_bytes)
    private_dir(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".package-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as sink:
            write_canonical_zip(sink, [(MANIFEST, manifest_bytes), (SIGNATURE, signature), *entries], created)
            sink.flush()
            os.fsync(sink.fileno())
        manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        before_publish(manifest_sha256)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return BuiltPackage(target, manifest_sha256, len(entries), target.stat().st_size)


# -- verification -------------------------------------------------------------------------------------


@dataclass
class PackageCheck:
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    files: int = 0
    manifest: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, object]:
        summary = None
        if self.manifest is not None:
            summary = {
                k: self.manifest.get(k) for k in ("format", "created_at", "created_by", "reason", "purpose")
            }
            summary["preservations"] = [p.get("id") for p in self.manifest.get("preservations", [])]
        return {"ok": self.ok, "problems": self.problems, "files": self.files, "manifest": summary}


class _Refused(Exception):
    pass


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise _Refused(f"entry {info.filename!r} is {info.file_size} bytes, over the limit of {limit}")
    with archive.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise _Refused(f"entry {info.filename!r} is larger than it declares")
    return data


def verify_package(
    path: str | os.PathLike[str],
    public_key: Ed25519PublicKey,
    *,
    max_bytes: int = 4 * 1024**3,
    formats: Collection[str] = (FORMAT,),
) -> PackageCheck:
    """Check a package offline. ``ok`` only when the signature holds under ``public_key``, the manifest
    names one of ``formats`` (other signed packages, e.g. the network export, share this layout), every
    file matches the manifest, nothing is missing or extra, and the zip is byte for byte canonical."""
    check = PackageCheck()
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > max_bytes + 64 * 1024 * 1024:
            raise _Refused(f"the package is {size} bytes, over the limit of {max_bytes}")
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise _Refused(f"the package has {len(infos)} entries, over {MAX_ENTRIES}")
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise _Refused("the package has duplicate entry names")
            if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
                raise _Refused("the package has compressed entries (packages store entries uncompressed)")
            if sum(i.file_size for i in infos) > max_bytes:
                raise _Refused(f"the package's entries add up to more than {max_bytes} bytes")
            by_name = {i.filename: i for i in infos}
            if names[:2] != [MANIFEST, SIGNATURE]:
                raise _Refused(f"the package must start with {MANIFEST} and {SIGNATURE}")
            manifest_bytes = _read_entry(archive, by_name[MANIFEST], MAX_MANIFEST_BYTES)
            signature = _read_entry(archive, by_name[SIGNATURE], 64)
            if not crypto.signature_ok(public_key, signature, manifest_bytes):
                raise _Refused("the manifest's signature does not verify under the given public key")
            manifest = json.loads(manifest_bytes)
            check.manifest = manifest
            if manifest.get("format") not in formats:
                raise _Refused(f"unknown package format {str(manifest.get('format'))[:80]!r}")
            listed = manifest["files"]
            expected = [MANIFEST, SIGNATURE, *(str(f["path"]) for f in listed)]
            if names != expected:
                extra = sorted(set(names) - set(expected))
                lacking = sorted(set(expected) - set(names))
                raise _Refused(
                    "the package's entries differ from its manifest "
                    f"(extra {extra[:5]}, missing {lacking[:5]})"
                )
            stamp = _zip_time(datetime.fromisoformat(manifest["created_at"]))
            # Rebuild the canonical zip entry by entry while checking each file against the manifest,
            # streaming (memory stays at one chunk whatever the files' sizes), then compare digests.
            with tempfile.TemporaryFile() as scratch:
                with _canonical_writer(scratch) as rebuilt:
                    rebuilt.writestr(_canonical_info(MANIFEST, len(manifest_bytes), stamp), manifest_bytes)
                    rebuilt.writestr(_canonical_info(SIGNATURE, len(signature), stamp), signature)
                    for listed_file in listed:
                        info = by_name[listed_file["path"]]
                        digest = hashlib.sha256()
                        target = _canonical_info(info.filename, info.file_size, stamp)
                        with archive.open(info) as src, rebuilt.open(target, "w") as dest:
                            for chunk in iter(lambda src=src: src.read(CHUNK), b""):  # type: ignore[misc]
                                digest.update(chunk)
                                dest.write(chunk)
                        if (
                            info.file_size != listed_file["size"]
                            or digest.hexdigest() != listed_file["sha256"]
                        ):
                            check.problems.append(f"{info.filename}: content does not match the manifest")
                check.files = len(listed)
                if check.problems:
                    return check
                scratch.seek(0)
                canonical = hashlib.sha256()
                for chunk in iter(lambda: scratch.read(CHUNK), b""):
                    canonical.update(chunk)
        if canonical.hexdigest() != _file_digest(source):
            raise _Refused(
                "the zip container differs from the canonical layout (bytes outside the files changed)"
            )
    except _Refused as exc:
        check.problems.append(str(exc))
        return check
    except Exception as exc:  # whatever a damaged zip makes zipfile raise, it is not valid
        # A flipped byte in a header or the data: zipfile's own checks (CRC, sizes, signatures, versions)
        # raise BadZipFile, NotImplementedError, struct errors, OverflowError...: all mean "not valid".
        check.problems.append(f"the package is damaged or not a package: {type(exc).__name__}: {exc}")
        return check
    check.ok = True
    return check


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
