"""Normalisation against evasion, with a map back to the original text.

People who sell or solicit off-platform write so that filters miss them: look-alike letters from other
scripts, zero-width characters inside words, leetspeak (``p@1d c0nt3nt``), letters spaced or dotted
apart (``s e l l``, ``s.e.l.l``), stylised Unicode letters. Each field is therefore seen in three views:

``original``
    the text as received.
``normalised``
    per character: invisible and format characters (zero-width, bidi controls, soft hyphen, tags,
    Hangul fillers) dropped; every kind of space made a space; digits of any script made ASCII digits;
    NFKC compatibility forms unfolded (fullwidth, mathematical, circled letters); accents stripped from
    Latin letters (marks on other scripts are kept, they are spelling there); look-alikes folded to the
    ASCII letter they imitate (``homoglyphs``). Case is kept: URLs, wallet addresses and invite links
    are case-sensitive. Entities and regex rules read this view.
``skeleton``
    the normalised view case-folded; inside a word that holds a letter, leetspeak undone
    (``0→o 1→i 3→e 4→a 5→s 7→t 8→b @→a $→s !→i |→i``); ``l`` and ``i`` made one letter, since ``1``
    stands for either; every run of other characters made one space. Keyword rules read this view,
    and their keywords are put through the same function, so both sides agree (see ``matchers``).

Every character of a derived view keeps the ``[start, end)`` span of the original it came from, so a
match in any view highlights the right original text (``MappedText.to_original``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from suraksha.errors import InvalidInput
from suraksha.rules.homoglyphs import ascii_lookalike
from suraksha.rules.models import TextView

DEFAULT_MAX_TEXT_CHARS = 64 * 1024

_MARK = "\x00mark"  # sentinel from _fold_char: a combining mark, attached to the previous character

# Letters that render as nothing (Hangul fillers) and a blank that renders as a space (braille).
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_BLANKS = frozenset("\u2800")

_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "i",
}
_LEET_SYMBOLS = frozenset("@$!|")
_LEADING_PUNCTUATION = frozenset("@!")
_TRAILING_PUNCTUATION = frozenset("!")


class TextTooLong(InvalidInput):
    """A field is longer than the rules will read; the text is refused, never cut (cutting would let
    padding push the payload out of sight)."""


@dataclass(frozen=True, slots=True)
class MappedText:
    """A derived text and, for each of its characters, the original span it came from."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the derived span ``[start, end)`` (which must not be empty)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) is empty or outside a text of {len(self.text)}")
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True)
class NormalisedText:
    original: str
    normalised: MappedText
    skeleton: MappedText

    def view(self, view: TextView) -> MappedText:
        if view is TextView.ORIGINAL:
            n = len(self.original)
            return MappedText(self.original, range(n), range(1, n + 1))
        return self.normalised if view is TextView.NORMALISED else self.skeleton

    @cached_property
    def bounded_skeleton(self) -> MappedText:
        """The skeleton with every space doubled and one space added at each end.

        Keyword patterns are ``" (body) "``: the spaces around the body are its word boundaries, and
        doubling lets one match's closing space and the next match's opening space be different
        characters. So RE2 finds every word-bounded keyword in one linear pass, with no retries.
        The padding characters map to empty spans at the ends; a keyword body never includes them.
        """
        skeleton = self.skeleton
        chars = [" "]
        starts = [0]
        ends = [0]
        for char, start, end in zip(skeleton.text, skeleton.starts, skeleton.ends, strict=True):
            repeat = 2 if char == " " else 1
            chars.append(char * repeat)
            starts.extend([start] * repeat)
            ends.extend([end] * repeat)
        chars.append(" ")
        starts.append(len(self.original))
        ends.append(len(self.original))
        return MappedText("".join(chars), starts, ends)


def normalise(text: str, *, max_chars: int = DEFAULT_MAX_TEXT_CHARS, what: str = "text") -> NormalisedText:
    """All three views of ``text``; ``what`` names the input in the error of a too-long text."""
    if len(text) > max_chars:
        raise TextTooLong(
            f"{what} is {len(text):,} characters long; the rules read at most {max_chars:,} "
            "(SURAKSHA_RULES_MAX_TEXT_CHARS). Raise the limit or split the text; it was not evaluated."
        )
    normalised = _normalised_view(text)
    return NormalisedText(original=text, normalised=normalised, skeleton=_skeleton_view(normalised))


def skeleton_of(text: str) -> str:
    """The skeleton of a short text (a keyword), exactly as ``normalise`` builds it for fields."""
    return _skeleton_view(_normalised_view(text)).text


@lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    """The normalised form of one character: usually itself, "" to drop it, or ``_MARK``."""
    if char == "\n":
        return "\n"
    if char.isspace() or char in _BLANKS:
        return " "
    if char in _INVISIBLE_LETTERS:
        return ""
    category = unicodedata.category(char)
    if category in ("Mn", "Me"):
        return _MARK
    if category in ("Cc", "Cf", "Cs"):
        return ""
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    if char.isascii():
        return char
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed[:1].isascii():  # an accented Latin letter: the accent goes
        decomposed = "".join(c for c in decomposed if not unicodedata.combining(c))
    composed = unicodedata.normalize("NFC", decomposed)
    return "".join(ascii_lookalike(c) or c for c in composed)


def _normalised_view(text: str) -> MappedText:
    if text.isascii() and text.isprintable():  # nothing to change: the common case, made cheap
        return MappedText(text, range(len(text)), range(1, len(text) + 1))
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded == _MARK:
            if chars and chars[-1].isascii() and ends[-1] == index:
                ends[-1] = index + 1  # an accent typed apart from its letter: part of that letter
                continue
            folded = char  # a mark of another script: it is spelling, keep it
        for out in folded:
            chars.append(out)
            starts.append(index)
            ends.append(index + 1)
    return MappedText("".join(chars), starts, ends)


@lru_cache(maxsize=16384)
def _casefold(char: str) -> str:
    return char.casefold()


@lru_cache(maxsize=16384)
def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def _skeleton_view(normalised: MappedText) -> MappedText:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for char, start, end in zip(normalised.text, normalised.starts, normalised.ends, strict=True):
        for folded in _casefold(char):
            chars.append(folded)
            starts.append(start)
            ends.append(end)

    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    gap: list[int] | None = None  # original span of the separators since the last word character

    def emit(char: str, start: int, end: int) -> None:
        nonlocal gap
        if gap is not None and out:
            out.append(" ")
            out_starts.append(gap[0])
            out_ends.append(gap[1])
        gap = None
        out.append(char)
        out_starts.append(start)
        out_ends.append(end)

    def separator(start: int, end: int) -> None:
        nonlocal gap
        gap = [start, end] if gap is None else [gap[0], end]

    count = len(chars)
    index = 0
    while index < count:
        char = chars[index]
        if not (_is_word_char(char) or char in _LEET_SYMBOLS):
            separator(starts[index], ends[index])
            index += 1
            continue
        stop = index
        while stop < count and (_is_word_char(chars[stop]) or chars[stop] in _LEET_SYMBOLS):
            stop += 1
        first, last = index, stop
        # "@" starting a token is a mention and "!" at either end is punctuation ("@name", "now!");
        # elsewhere they are letters ("vi@", "p@id", "$ell", "|ink").
        while first < last and chars[first] in _LEADING_PUNCTUATION:
            separator(starts[first], ends[first])
            first += 1
        while last > first and chars[last - 1] in _TRAILING_PUNCTUATION:
            last -= 1
        has_letter = any(chars[k].isalpha() for k in range(first, last))
        for k in range(first, last):
            char = chars[k]
            if has_letter:
                char = _LEET.get(char, char)
            elif char in _LEET_SYMBOLS:
                separator(starts[k], ends[k])
                continue
            emit("i" if char == "l" else char, starts[k], ends[k])
        for k in range(last, stop):
            separator(starts[k], ends[k])
        index = stop
    return MappedText("".join(out), out_starts, out_ends)
