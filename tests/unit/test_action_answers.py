"""What a webhook receiver's answer says about the action's outcome; older receivers' answers say
nothing, and an unreadable one never fails a delivery."""

from __future__ import annotations

import pytest

from suraksha.enforcement.acknowledgements import Acknowledgement, AckOutcome, answer_acknowledgement
from suraksha.errors import InvalidInput


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b'{"outcome": "done"}', Acknowledgement(7, AckOutcome.DONE)),
        (b'{"outcome": "failed", "reason": "on hold"}', Acknowledgement(7, AckOutcome.FAILED, "on hold")),
        (b"", None),
        (b"{}", None),
        (b"ok", None),
        (b"[1, 2]", None),
        (b'{"outcome": "maybe"}', None),
        (b'{"outcome": "failed"}', None),  # a failure without its reason is not taken from an answer
        (b'{"outcome": "failed", "reason": 3}', None),
        (b"\xff\xfe", None),
    ],
)
def test_answers(answer: bytes, expected: Acknowledgement | None) -> None:
    assert answer_acknowledgement(7, answer) == expected


def test_a_failure_needs_its_reason() -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        Acknowledgement(7, AckOutcome.FAILED, "  ")
