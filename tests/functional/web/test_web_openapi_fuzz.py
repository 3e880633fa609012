"""Schemathesis against our own OpenAPI document: generated requests, valid and invalid, to every
operation with an admin key; none may end in a server error. Bounded, derandomised, SQLite only."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.transport import Response

from .conftest import Keys, web_state

EXAMPLES = 250


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_server_errors(cold_app: FastAPI, keys: Keys) -> None:
    web_state(cold_app).load_index()
    schema = schemathesis.openapi.from_asgi("/openapi.json", cold_app)
    headers = keys.header("admin")
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, headers=headers),
        schema.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    )
    seen: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: schemathesis.Case[Any]) -> None:
        response: Response = case.call()
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.content[:500]!r}"
        )

    run()
    assert any(status < 300 for status in seen), seen  # some requests got through, not only refusals
    assert any(400 <= status < 500 for status in seen), seen
