"""A real intake pipeline for integration tests (a platform's database, a loaded index, an encrypted
media store in a temporary folder) and an item with one picture submitted to it."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from suraksha.app import DECISION_FOLLOW_UPS, Platform
from suraksha.banks.index import BankIndex
from suraksha.enforcement.policy import BUILTIN
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.intake.store import MediaStore
from suraksha.signals.file_signals import HashOptions
from suraksha.vault.crypto import EnvelopeCipher, KeyEncryptionKey

_SEQ = itertools.count()


@contextmanager
def real_pipeline(platform: Platform, tmp_path: Path, **extra: Any) -> Iterator[Pipeline]:
    """The pipeline, its index loaded from the platform's banks and closed after (``extra``: the
    pipeline's other parameters, a flood policy or a clock)."""
    index = BankIndex(platform.db).load()
    try:
        yield Pipeline(
            db=platform.db,
            index=index,
            store=MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate())),
            options=HashOptions(),
            policy=BUILTIN,
            follow_ups=DECISION_FOLLOW_UPS,
            **extra,
        )
    finally:
        index.close()


def submit_picture(pipeline: Pipeline, data: bytes, platform_id: str | None = None) -> int:
    """A post with the JPEG ``data`` by an account of its own, submitted: its item id."""
    name = platform_id or f"p{next(_SEQ)}"
    item = ItemIn.model_validate(
        {
            "platform_item_id": name,
            "kind": "post",
            "account": {"platform_id": f"acct-{name}", "handle": f"@{name}"},
            "media": [{"data": base64.b64encode(data).decode(), "content_type": "image/jpeg"}],
        }
    )
    with pipeline.db.session() as s:
        return submit_item(s, pipeline.store, item, max_media_bytes=10_000_000).item_id
