"""Media is never stored in plain: without the vault's KEK an item carrying media is refused (503, what to
set), nothing is written, and items without media are still taken."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from suraksha.access.services import create_api_key
from suraksha.app import Platform
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from tests.functional.web.test_web_items import body, items_in


def test_media_without_a_vault_key_is_refused_saying_what_to_set(
    make_platform: Callable[..., Platform], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SURAKSHA_VAULT_KEK")
    platform = make_platform()
    with platform.db.session() as session:
        _, key = create_api_key(session, "ingest-key", ["ingest"])
    ingest = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(platform, start_index=False)) as client:
        refused = client.post("/api/v1/items", json=body("m-1", synthetic_jpeg(3)), headers=ingest)
        assert refused.status_code == 503 and refused.headers["retry-after"]
        assert "SURAKSHA_VAULT_KEK" in refused.json()["detail"]
        assert items_in(platform) == 0
        media = platform.settings.data_path / "media"
        assert not [p for p in media.rglob("*") if p.is_file()]
        taken = client.post("/api/v1/items", json=body("t-1"), headers=ingest)
        assert taken.status_code in (200, 201, 202), taken.text
