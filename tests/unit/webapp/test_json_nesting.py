"""``JsonNesting``: the depth of a JSON text, counted chunk by chunk, strings and escapes skipped."""

from __future__ import annotations

import json

import pytest

from suraksha.web.middleware import JsonNesting, TooDeep


def feed(text: bytes, chunk: int, limit: int) -> JsonNesting:
    nesting = JsonNesting(limit)
    for start in range(0, len(text), chunk):
        nesting.feed(text[start : start + chunk])
    return nesting


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_brackets_inside_strings_and_escapes_do_not_count(chunk: int) -> None:
    document = {"a": ["[[[{{{", '\\"[[[', "\\", {"b": ["]]]}}}"]}], "c": '\\\\"{', "d": "ends in \\"}
    text = json.dumps(document).encode()  # four deep: {"a": [{"b": [
    nesting = feed(text, chunk, limit=4)
    assert nesting.depth == 0 and not nesting.in_string
    with pytest.raises(TooDeep):
        feed(text, chunk, limit=3)


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_too_deep_is_refused_while_it_arrives(chunk: int) -> None:
    assert feed(b"[" * 64 + b"]" * 64, chunk, limit=64).depth == 0
    with pytest.raises(TooDeep):
        feed(b'{"x":' * 65 + b"1" + b"}" * 65, chunk, limit=64)
