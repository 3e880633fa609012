"""Compiled patterns of one rule: RE2 programs, linear in the text whatever the pattern.

Rule packs come from people outside the code (trust-and-safety analysts, other platforms); a regex with
nested quantifiers would stall a backtracking engine on a crafted bio. RE2 (``google-re2``) runs in
time linear in the text and refuses the constructs that need backtracking (back-references,
look-around), and ``max_mem`` bounds each compiled program.

Keywords are matched on the skeleton view (see ``normalise``). A keyword is put through the same
skeleton function as the text, then compiled so that a letter may repeat (``seeell``) and, in keywords
of four letters or more, a space may stand between any two letters (``s e l l``, ``paidcontent``,
``pa id con tent``). Shorter keywords match only whole, so ``dm`` does not fire on the initials
``D. M.``. A keyword hit must start and end on a word boundary of the skeleton, which holds nothing but
word characters and single spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import re2

from suraksha.rules.models import TextView
from suraksha.rules.normalise import skeleton_of

MAX_PROGRAM_MEMORY = 8 * 1024 * 1024
_SPACED_FROM_LETTERS = 4


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
    """The RE2 source that finds ``keyword`` in a skeleton view."""
    skeleton = skeleton_of(keyword)
    if not skeleton:
        raise PatternError(f"keyword {keyword!r} has no letters or digits left after normalisation")
    letters = skeleton.replace(" ", "")
    spaced = len(letters) >= _SPACED_FROM_LETTERS
    parts: list[str] = []
    previous = ""
    for char in skeleton:
        if char == " ":
            if not spaced:
                parts.append(" ")
                previous = ""
            continue
        if char == previous:
            continue  # "sell" is "s e i" with repeats allowed: one repeat rule covers both letters
        literal = re2.escape(char)
        if spaced:
            if parts:
                parts.append(" ?")
            parts.append(f"{literal}(?: ?{literal})*")
        else:
            parts.append(f"{literal}+")
        previous = char
    return "".join(parts)


@dataclass(frozen=True)
class Matcher:
    """Finds the spans of one rule's patterns in one view of a field."""

    view: TextView
    program: re2._Regexp[str]
    word_bounded: bool

    def find(self, text: str, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` non-empty, non-overlapping ``[start, end)`` spans of ``text``, in order."""
        spans: list[tuple[int, int]] = []
        position = 0
        length = len(text)
        while position < length and len(spans) < limit:
            found = self.program.search(text, position)
            if found is None:
                break
            start, end = found.span()
            if end == start:
                position = start + 1
                continue
            if self.word_bounded:
                if start > 0 and text[start - 1] != " ":
                    position = start + 1
                    continue
                if end < length and text[end] != " ":
                    end = self._shorter_bounded_end(text, start, end)
                    if end == start:
                        position = start + 1
                        continue
            spans.append((start, end))
            position = end
        return spans

    def _shorter_bounded_end(self, text: str, start: int, end: int) -> int:
        """The longest match from ``start`` that ends on a word boundary before ``end``, or ``start``.

        Leftmost-longest matching may run past the word it should stop at ("sell it" is ``seii it``
        and ``i(?: ?i)*`` takes the "i" of "it"); the ends worth trying are the spaces inside it.
        """
        cut = text.rfind(" ", start, end)
        while cut > start:
            if self.program.fullmatch(text, start, cut) is not None:
                return cut
            cut = text.rfind(" ", start, cut)
        return start


def keyword_matcher(keywords: Sequence[str]) -> Matcher:
    source = "|".join(f"(?:{keyword_regex(k)})" for k in keywords)
    return Matcher(TextView.SKELETON, _compile(source, case_sensitive=True, longest=True), True)


def regex_matcher(patterns: Sequence[str], view: TextView, *, case_sensitive: bool) -> Matcher:
    for pattern in patterns:
        program = _compile(pattern, case_sensitive=case_sensitive, longest=False)
        if program.fullmatch("") is not None:
            raise PatternError(f"regex {pattern!r} matches the empty string, so it would match everywhere")
    source = "|".join(f"(?:{p})" for p in patterns)
    return Matcher(view, _compile(source, case_sensitive=case_sensitive, longest=False), False)


def _compile(source: str, *, case_sensitive: bool, longest: bool) -> re2._Regexp[str]:
    try:
        return re2.compile(source, _options(case_sensitive=case_sensitive, longest=longest))
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(
            f"regex {source!r} is not valid RE2 syntax ({detail}); RE2 has no back-references or "
            "look-around, see https://github.com/google/re2/wiki/Syntax"
        ) from None
