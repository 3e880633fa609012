"""Keyword and regex matchers: word boundaries, spacing and repeats, and linear time on crafted text."""

from __future__ import annotations

import time

import pytest

from suraksha.rules import TextView, normalise
from suraksha.rules.matchers import PatternError, keyword_matcher, regex_matcher


def hits(keywords: list[str], text: str) -> list[str]:
    spans = keyword_matcher(keywords).find(normalise(text), limit=100)
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sell", ["sell"]),
        ("I sell it now", ["sell"]),  # the repeat rule must not swallow the "i" of "it"
        ("sell sell", ["sell", "sell"]),  # adjacent hits share no boundary character
        ("sell,sell.sell", ["sell", "sell", "sell"]),
        ("seeeelllll", ["seeeelllll"]),
        ("s e l l", ["s e l l"]),
        ("s-e-l-l stuff", ["s-e-l-l"]),
        ("$3ll", ["$3ll"]),
        ("reseller", []),
        ("selling", []),
        ("sel", ["sel"]),  # repeat counts are not compared: the price of catching "seeell"
    ],
)
def test_keyword_boundaries_spacing_and_repeats(text: str, expected: list[str]) -> None:
    assert hits(["sell"], text) == expected


def test_short_keywords_match_only_whole() -> None:
    assert hits(["dm"], "DM me") == ["DM"]
    assert hits(["dm"], "R. D. M. Sharma") == []
    assert hits(["dm"], "admin") == []


def test_phrases_may_lose_or_gain_spaces() -> None:
    assert hits(["paid content"], "#paidcontent and pa id con tent") == ["paidcontent", "pa id con tent"]


@pytest.mark.parametrize(
    "text",
    [
        "p " * 30000 + "a i d c o n t e n tx",  # every "p" starts a long match that fails at the end
        "p " + "a " * 30000 + "i d c o n t e n tx",
        "s" + " e" * 30000 + " ix",
    ],
)
def test_keyword_matching_is_linear_on_crafted_text(text: str) -> None:
    matcher = keyword_matcher(["paid content", "sell"])
    normalised = normalise(text)
    started = time.perf_counter()
    assert matcher.find(normalised, limit=100) == []
    assert time.perf_counter() - started < 1.0  # a retrying matcher took minutes here


def test_regex_reads_its_view() -> None:
    text = "P\u0430ID now"  # a Cyrillic a
    normalised = normalise(text)
    assert regex_matcher([r"\bpaid\b"], TextView.NORMALISED, case_sensitive=False).find(normalised, 10) == [
        (0, 4)
    ]
    assert regex_matcher([r"\bpaid\b"], TextView.ORIGINAL, case_sensitive=False).find(normalised, 10) == []


def test_limit_stops_the_search() -> None:
    assert len(keyword_matcher(["sell"]).find(normalise("sell " * 100), limit=7)) == 7


def test_patterns_that_cannot_work_are_refused() -> None:
    with pytest.raises(PatternError, match="empty string"):
        regex_matcher(["a?"], TextView.NORMALISED, case_sensitive=False)
    with pytest.raises(PatternError, match="not valid RE2"):
        regex_matcher(["(?=a)"], TextView.NORMALISED, case_sensitive=False)
    with pytest.raises(PatternError, match="no letters or digits"):
        keyword_matcher(["..."])
