"""A media URL that cannot be fetched is recorded with the rule that stopped it, never the fetcher's
detail: the reason reaches the platform (``GET /api/v1/items/{id}``), and the detail names what an
internal host name resolves to."""

from __future__ import annotations

import logging

import pytest

from suraksha.intake.adapters import Fetch
from suraksha.intake.pipeline import FetchFailed
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher


def resolver(host: str, port: int, timeout_s: float) -> list[str]:
    return {"db.internal.example": ["10.20.30.40"]}[host]


def test_the_recorded_reason_names_the_rule_not_the_address(caplog: pytest.LogCaptureFixture) -> None:
    fetch = Fetch(MediaFetcher(FetchPolicy(), resolver=resolver))
    with caplog.at_level(logging.INFO), pytest.raises(FetchFailed) as failed:
        fetch("http://db.internal.example/x.jpg")
    assert failed.value.reason == "blocked_address"
    assert "10.20.30.40" in caplog.text  # the operator still sees why
