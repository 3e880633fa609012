"""The snapshot preserved beside the media: what the platform told us about the item and its account,
and what was decided, as it stood when the evidence was preserved (rows change later; this does not).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Action, Decision

SNAPSHOT_FORMAT = "suraksha-evidence-snapshot/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def media_name(media: ItemMedia) -> str:
    """The file's name in the vault and in export packages (position and detected format)."""
    fmt = (media.media_format or "").lower()
    ext = {"jpeg": "jpg"}.get(fmt, fmt) if fmt.isalnum() and len(fmt) <= 8 else "bin"
    return f"media-{media.position}.{ext or 'bin'}"


def build_snapshot(session: Session, decision: Decision, item: Item, account: Account) -> dict[str, Any]:
    """Everything the platform gave us about the item (upload IP and port, device id, timestamps),
    its account, each media file's signals, the matches and rule hits, the decision and its actions."""
    media = list(session.scalars(select(ItemMedia).where(ItemMedia.item_id == item.id)))
    matches = list(session.scalars(select(ItemMatch).where(ItemMatch.item_id == item.id)))
    hits = list(session.scalars(select(ItemRuleHit).where(ItemRuleHit.item_id == item.id)))
    actions = list(session.scalars(select(Action).where(Action.decision_id == decision.id)))
    return {
        "format": SNAPSHOT_FORMAT,
        "captured_at": utcnow().isoformat(),
        "item": {
            "id": item.id,
            "platform_item_id": item.platform_item_id,
            "kind": item.kind,
            "text": item.text,
            "posted_at": _iso(item.posted_at),
            "received_at": _iso(item.received_at),
            "upload_ip": item.upload_ip,
            "upload_port": item.upload_port,
            "device_id": item.device_id,
            "reporter_kind": item.reporter_kind,
            "reporter_id": item.reporter_id,
            "report_reason": item.report_reason,
            "payload_digest": item.payload_digest,
        },
        "account": {
            "id": account.id,
            "platform_account_id": account.platform_account_id,
            "handle": account.handle,
            "display_name": account.display_name,
            "bio": account.bio,
            "platform_created_at": _iso(account.platform_created_at),
            "first_seen_at": _iso(account.first_seen_at),
            "last_seen_at": _iso(account.last_seen_at),
            "suspended_at": _iso(account.suspended_at),
        },
        "media": [
            {
                "id": m.id,
                "position": m.position,
                "name": media_name(m),
                "url": m.url,
                "declared_type": m.declared_type,
                "state": m.state,
                "error": m.error,
                "size": m.size,
                "format": m.media_format,
                "md5": m.md5,
                "sha256": m.sha256,
                "pdq": m.pdq,
                "pdq_quality": m.pdq_quality,
            }
            for m in sorted(media, key=lambda m: m.position)
        ],
        "matches": [
            {
                "media_id": h.media_id,
                "bank": h.bank_name,
                "category": h.bank_category,
                "entry_id": h.entry_id,
                "signal": h.signal_type,
                "distance": h.distance,
                "suppressed": h.suppressed,
            }
            for h in matches
        ],
        "rule_hits": [
            {
                "pack": h.pack,
                "version": h.pack_version,
                "rule": h.rule_id,
                "category": h.category,
                "field": h.field,
            }
            for h in hits
        ],
        "decision": {
            "id": decision.id,
            "verdict": decision.verdict,
            "category": decision.category,
            "automated": decision.automated,
            "decided_by": decision.decided_by,
            "decided_by_ref": decision.decided_by_ref,
            "basis": json.loads(decision.basis or "[]"),
            "reason": decision.reason,
            "created_at": _iso(decision.created_at),
            "actions": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "target": a.target,
                    "state": a.state,
                    "created_at": _iso(a.created_at),
                }
                for a in actions
            ],
        },
    }


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
