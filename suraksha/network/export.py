"""An investigation's network for police analysts: CSV, GraphML and JSON in one signed package.

Layout (format ``suraksha-network-export/1``): the vault's signed package (``suraksha.vault.packages``:
``manifest.json`` with every file's size and SHA-256, ``manifest.sig`` the Ed25519 signature over it,
the zip byte for byte canonical), holding:

- ``nodes.csv``: one row per account (our id, the platform's id, handle, created, first seen,
  suspended);
- ``edges.csv``: one row per shared key between two accounts: the pair, the edge's total weight and
  whether it is trustworthy, the key (kind, value, how many accounts carry it everywhere, its weight and
  the note saying why it is down-weighted), and each side's evidence (first and last item, item count,
  first and last seen);
- ``network.graphml``: the same graph for Gephi, Cytoscape or i2 (written by igraph), each edge with
  its weight, its key kinds and its evidence as JSON;
- ``network.json``: everything above, and the investigation (title, state, timeline, identifiers).

``verify_export`` is the vault's ``verify_package`` for this format: a change to any byte fails it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import igraph
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.errors import ConfigError
from suraksha.network.services import AccountNode, Edge
from suraksha.vault import crypto
from suraksha.vault.packages import BuiltPackage, PackageCheck, verify_package, write_signed_package

FORMAT = "suraksha-network-export/1"
EXPORT = "network:export"
"""The audit action of an export (subject ``investigation:ID``, naming the manifest's SHA-256)."""
FILES = ("nodes.csv", "edges.csv", "network.graphml", "network.json")

NODE_COLUMNS = (
    "account_id",
    "platform_account_id",
    "handle",
    "platform_created_at",
    "first_seen_at",
    "suspended_at",
)
EDGE_COLUMNS = (
    "account_a",
    "account_b",
    "edge_weight",
    "trustworthy",
    "key_kind",
    "key_value",
    "key_accounts",
    "key_weight",
    "key_note",
    "a_first_item_id",
    "a_last_item_id",
    "a_items",
    "a_first_seen_at",
    "a_last_seen_at",
    "b_first_item_id",
    "b_last_item_id",
    "b_items",
    "b_first_seen_at",
    "b_last_seen_at",
)


def _csv(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        # A value starting with = + - @ is read as a formula by spreadsheets: quote it as text.
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return out.getvalue().encode()


def nodes_csv(accounts: Sequence[AccountNode]) -> bytes:
    return _csv(
        [
            (
                a.id,
                a.platform_account_id,
                a.handle,
                a.platform_created_at.isoformat() if a.platform_created_at else "",
                a.first_seen_at.isoformat(),
                a.suspended_at.isoformat() if a.suspended_at else "",
            )
            for a in accounts
        ],
        NODE_COLUMNS,
    )


def edges_csv(edges: Sequence[Edge]) -> bytes:
    rows = []
    for e in edges:
        for k in e.keys:
            rows.append(
                (
                    e.a,
                    e.b,
                    round(e.weight, 4),
                    "true" if e.trustworthy else "false",
                    k.kind,
                    k.value,
                    k.accounts,
                    round(k.weight, 4),
                    k.note,
                    k.a.first_item_id,
                    k.a.last_item_id,
                    k.a.items,
                    k.a.first_seen_at.isoformat(),
                    k.a.last_seen_at.isoformat(),
                    k.b.first_item_id,
                    k.b.last_item_id,
                    k.b.items,
                    k.b.first_seen_at.isoformat(),
                    k.b.last_seen_at.isoformat(),
                )
            )
    return _csv(rows, EDGE_COLUMNS)


def graphml(accounts: Sequence[AccountNode], edges: Sequence[Edge]) -> bytes:
    """The graph as GraphML, written by igraph (undirected; node and edge attributes as above)."""
    index = {a.id: n for n, a in enumerate(accounts)}
    shown = [e for e in edges if e.a in index and e.b in index]
    graph = igraph.Graph(n=len(accounts), edges=[(index[e.a], index[e.b]) for e in shown])
    graph.vs["account_id"] = [str(a.id) for a in accounts]
    graph.vs["platform_account_id"] = [a.platform_account_id for a in accounts]
    graph.vs["handle"] = [a.handle for a in accounts]
    graph.vs["suspended"] = [a.suspended_at is not None for a in accounts]
    if shown:
        graph.es["weight"] = [round(e.weight, 4) for e in shown]
        graph.es["trustworthy"] = [e.trustworthy for e in shown]
        graph.es["kinds"] = [" ".join(sorted({k.kind for k in e.keys})) for e in shown]
        graph.es["evidence"] = [json.dumps([k.as_dict() for k in e.keys], sort_keys=True) for e in shown]
    fd, name = tempfile.mkstemp(suffix=".graphml")
    os.close(fd)
    try:
        graph.write_graphml(name)
        return Path(name).read_bytes()
    finally:
        Path(name).unlink(missing_ok=True)


def build_export(
    session: Session,
    detail: dict[str, Any],
    accounts: Sequence[AccountNode],
    edges: Sequence[Edge],
    out: Path,
    *,
    signing_key: Any,
    actor: str,
    reason: str,
) -> BuiltPackage:
    """Write the signed package of an investigation (``detail``: its ``as_dict()``) to ``out``; the
    export is audited before the file appears."""
    if not signing_key:
        raise ConfigError(
            "network exports are signed: set SURAKSHA_VAULT_SIGNING_KEY (`suraksha vault keygen` makes one)"
        )
    key = crypto.signing_key_from_text(signing_key)
    investigation = detail["investigation"]
    created = utcnow().replace(microsecond=0)
    document = {"format": FORMAT, **detail}
    entries = [
        ("nodes.csv", nodes_csv(accounts)),
        ("edges.csv", edges_csv(edges)),
        ("network.graphml", graphml(accounts, edges)),
        ("network.json", json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode()),
    ]
    manifest = {
        "format": FORMAT,
        "created_at": created.isoformat(),
        "created_by": actor,
        "reason": reason,
        "purpose": "network investigation export for police analysts",
        "investigation": {k: investigation.get(k) for k in ("id", "title", "state", "group_identifier")},
        "accounts": len(accounts),
        "edges": len(edges),
    }

    def record(manifest_sha256: str) -> None:
        audit.record(
            session,
            actor,
            EXPORT,
            f"investigation:{investigation['id']}",
            {
                "manifest_sha256": manifest_sha256,
                "accounts": len(accounts),
                "edges": len(edges),
                "reason": reason,
            },
        )
        session.flush()

    return write_signed_package(out, manifest, entries, key, created, before_publish=record)


def verify_export(path: str | os.PathLike[str], public_key: Ed25519PublicKey) -> PackageCheck:
    """Check an export offline against the vault's public key (``suraksha vault pubkey``)."""
    return verify_package(path, public_key, formats=(FORMAT,))
