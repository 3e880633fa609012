"""Index tests run on small sets, where the cost model would pick the brute-force scan for most
thresholds: probe the multi-index tables instead, so that the fast path is the one checked. Tests
that cover the scan say so (``search_method = "scan"``)."""

from __future__ import annotations

import pytest

from suraksha.signals.index import PdqIndex


@pytest.fixture(autouse=True)
def _probe_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PdqIndex, "search_method", "probe")
