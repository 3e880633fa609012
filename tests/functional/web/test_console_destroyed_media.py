"""Evidence the vault destroyed is not shown any more: after a deletion on a law-enforcement request, the
console's reveal and content routes answer "destroyed ... under <reason>", never the bytes."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from suraksha.app import Platform
from suraksha.content.models import ItemMedia
from suraksha.vault.holds import preservations_for_items
from suraksha.vault.purge import delete_on_request
from suraksha.vault.services import EvidenceActor, preserve
from tests.functional.web import test_console as console
from tests.functional.web.test_console import _case, signed_in

# The console tests' fixtures: a platform with one user per role, and the test client over it.
_cheap_hashing = console._cheap_hashing
console_platform = console.console_platform
web = console.web


def test_destroyed_media_is_neither_revealed_nor_served(web: TestClient, console_platform: Platform) -> None:
    platform = console_platform
    case_id, media_id = _case(platform, "sexual_violence", 1)
    with platform.db.session() as session:
        [preservation] = preservations_for_items(session, [session.get(ItemMedia, media_id).item_id])  # type: ignore[union-attr]
        preservation_id, decision_id = preservation.id, preservation.decision_id
    assert preserve(platform.db, platform.vault, decision_id) == preservation_id
    with platform.db.reading() as session:
        sha256 = session.scalars(select(ItemMedia.sha256).where(ItemMedia.id == media_id)).one()
    assert sha256 is not None and platform.media_store.exists(sha256)

    csrf = signed_in(web, "lead@example.org")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    revealed = web.post(f"/console/media/{media_id}/reveal", data={"case_id": str(case_id)}, headers=headers)
    assert revealed.status_code == 200
    found = re.search(r"view=(\d+)", revealed.text)
    assert found is not None
    assert web.get(f"/console/media/{media_id}/content?view={found.group(1)}").status_code == 200

    legal = EvidenceActor("user:legal1", frozenset({"legal"}))
    delete_on_request(
        platform.db, platform.vault, preservation_id, reference="FIR 12/2026", actor=legal, reason="asked"
    )
    assert not platform.media_store.exists(sha256)

    content = web.get(f"/console/media/{media_id}/content?view={found.group(1)}")
    assert content.status_code == 404
    assert "destroyed on" in content.text and "under deletion request FIR 12/2026" in content.text
    again = web.post(f"/console/media/{media_id}/reveal", data={"case_id": str(case_id)}, headers=headers)
    assert again.status_code == 404 and "under deletion request FIR 12/2026" in again.text
