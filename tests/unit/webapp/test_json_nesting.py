"""``JsonNesting``: the depth of a JSON text, counted chunk by chunk, strings and escapes skipped."""

from __future__ import annotations

import json
import random

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


def deepest(text: bytes) -> int:
    """The obviously-correct count, one byte at a time."""
    depth = deepest_seen = 0
    in_string = escaped = False
    for byte in text:
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = byte == 0x5C, byte != 0x22
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest_seen = max(deepest_seen, depth)
        elif byte in b"]}":
            depth = max(0, depth - 1)
    return deepest_seen


def test_agrees_with_the_byte_by_byte_count_on_random_texts_and_chunks() -> None:
    rng = random.Random(19)
    pieces = ['"', "\\", "[", "]", "{", "}", "a", ",", ":", '\\"', "\\\\", "x" * 40]
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))).encode()
        limit = deepest(text)
        for chunk in (1, 2, 3, rng.randint(1, 64)):
            feed(text, chunk, limit)  # never raises at the deepest it reaches
            if limit:
                with pytest.raises(TooDeep):
                    feed(text, chunk, limit - 1)


def test_long_strings_and_runs_of_escapes_stay_linear() -> None:
    text = b'{"data": "' + b"A" * 500_000 + b'", "e": "' + b"\\\\" * 250_000 + b'"}'
    assert feed(text, 65536, limit=1).depth == 0
