"""Compiled patterns of one rule: RE2 programs, linear in the text whatever the pattern.

Rule packs come from people outside the code (trust-and-safety analysts, other platforms); a regex with
nested quantifiers would stall a backtracking engine on a crafted bio. RE2 (``google-re2``) runs in
time linear in the text and refuses the constructs that need backtracking (back-references,
look-around), and ``max_mem`` bounds each compiled program.

Keywords are matched on the skeleton view (see ``normalise``). A keyword is put through the same
skeleton function as the text, then compiled so that a letter may repeat (``seeell``) and, in keywords
of four letters or more, a space may stand between any two letters (``s e l l``, ``paidcontent``,
``pa id con tent``). Shorter keywords match only whole, so ``dm`` does not fire on the initials
``D. M.``. A keyword hit starts and ends on a word boundary: the pattern is matched against
``NormalisedText.bounded_skeleton`` as ``" (body) "``, so boundaries are part of the one RE2 pass and
no match is ever retried (a retry loop over leftmost-longest matches is quadratic on crafted text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import re2

from suraksha.rules.models import TextView
from suraksha.rules.normalise import NormalisedText, skeleton_of

MAX_PROGRAM_MEMORY = 8 * 1024 * 1024
_SPACED_FROM_LETTERS = 4
_GAP = "(?:  )"  # one space of the skeleton, doubled in the bounded skeleton


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message says why."""


def _options(*, case_sensitive: bool, longest: bool) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.longest_match = longest
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_MEMORY
    return options


def keyword_regex(keyword: str) -> str:
    """The RE2 source of ``keyword``'s body, for the bounded skeleton (spaces doubled)."""
    skeleton = skeleton_of(keyword)
    if not skeleton:
        raise PatternError(f"keyword {keyword!r} has no letters or digits left after normalisation")
    spaced = len(skeleton.replace(" ", "")) >= _SPACED_FROM_LETTERS
    parts: list[str] = []
    previous = ""
    for char in skeleton:
        if char == " ":
            if not spaced:
                parts.append(_GAP)
                previous = ""
            continue
        if char == previous:
            continue  # "sell" is "s e i" with repeats allowed: one repeat rule covers both letters
        literal = re2.escape(char)
        if spaced:
            if parts:
                parts.append(f"{_GAP}?")
            parts.append(f"{literal}(?:{_GAP}?{literal})*")
        else:
            parts.append(f"{literal}+")
        previous = char
    return "".join(parts)


@dataclass(frozen=True)
class Matcher:
    """Finds the spans of one rule's patterns in one view of a field."""

    view: TextView
    program: re2._Regexp[str]
    bounded: bool
    """A keyword program: matched on the bounded skeleton, its hit is group 1."""

    def find(self, text: NormalisedText, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` non-empty, non-overlapping spans, in the ORIGINAL text, in order."""
        mapped = text.bounded_skeleton if self.bounded else text.view(self.view)
        spans: list[tuple[int, int]] = []
        for found in self.program.finditer(mapped.text):
            start, end = found.span(1) if self.bounded else found.span()
            if start == end:
                continue
            spans.append(mapped.to_original(start, end))
            if len(spans) >= limit:
                break
        return spans


def keyword_matcher(keywords: Sequence[str]) -> Matcher:
    body = "|".join(f"(?:{keyword_regex(k)})" for k in keywords)
    program = _compile(f" ({body}) ", case_sensitive=True, longest=True)
    return Matcher(TextView.SKELETON, program, bounded=True)


def regex_matcher(patterns: Sequence[str], view: TextView, *, case_sensitive: bool) -> Matcher:
    for pattern in patterns:
        program = _compile(pattern, case_sensitive=case_sensitive, longest=False)
        if program.fullmatch("") is not None:
            raise PatternError(f"regex {pattern!r} matches the empty string, so it would match everywhere")
    source = "|".join(f"(?:{p})" for p in patterns)
    return Matcher(view, _compile(source, case_sensitive=case_sensitive, longest=False), bounded=False)


def _compile(source: str, *, case_sensitive: bool, longest: bool) -> re2._Regexp[str]:
    try:
        return re2.compile(source, _options(case_sensitive=case_sensitive, longest=longest))
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(
            f"regex {source!r} is not valid RE2 syntax ({detail}); RE2 has no back-references or "
            "look-around, see https://github.com/google/re2/wiki/Syntax"
        ) from None
