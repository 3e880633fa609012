"""Helpers shared by the vault tests: benign synthetic media and a matched, decided item."""

from __future__ import annotations

import base64

from sqlalchemy import select

from suraksha.access import users
from suraksha.access.models import ConsoleUser
from suraksha.db import Database
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.permissions import Role
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault.models import Preservation
from suraksha.vault.services import EvidenceActor

KNOWN = synthetic_jpeg(101)
REPOST = synthetic_jpeg(101, 500, 375, quality=70)
OTHER = synthetic_jpeg(202)
PASSWORD = "a long enough test passphrase 1"


def submit(pipeline: Pipeline, platform_id: str, account: str, *media: bytes, **extra: object) -> int:
    value = ItemIn.model_validate(
        {
            "platform_item_id": platform_id,
            "kind": "post",
            "account": {"platform_id": account, "handle": f"@{account}"},
            "text": "benign test text",
            "upload_ip": "203.0.113.7",
            "upload_port": 51234,
            "device_id": "device-abc",
            "media": [{"data": base64.b64encode(m).decode(), "content_type": "image/jpeg"} for m in media],
            **extra,
        }
    )
    with pipeline.db.session() as s:
        return submit_item(s, pipeline.store, value, max_media_bytes=10_000_000).item_id


def matched_item(pipeline: Pipeline, platform_id: str = "p1", account: str = "acct-1") -> tuple[int, int]:
    """A banked picture posted, processed: (item id, decision id) with a pending preservation."""
    item_id = submit(pipeline, platform_id, account, REPOST)
    assert pipeline.process(item_id)
    with pipeline.db.reading() as s:
        row = s.scalar(select(Preservation).where(Preservation.item_id == item_id))
        assert row is not None
        return item_id, row.decision_id


def legal_user(db: Database, email: str = "legal@example.org", role: Role = Role.LEGAL) -> ConsoleUser:
    with db.session() as s:
        return users.create_user(s, email, [role], PASSWORD, by="test")


def legal_actor() -> EvidenceActor:
    return EvidenceActor("user:legal1", frozenset({Role.LEGAL.value}))
