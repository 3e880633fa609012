"""Look-alike characters folded to the ASCII letter or digit they imitate.

Evasion swaps Latin letters for look-alikes from other scripts ("раid" with a Cyrillic р and а) so
that a plain keyword match misses. The Unicode confusables data (UTS #39, shipped by the
``confusable-homoglyphs`` package) says which characters imitate which; we keep, for every non-ASCII
character, the single ASCII letter or digit it is confusable with.

Two families that "fancy text" generators use are missing from the confusables data on purpose (they
are not confusable in a font, only stylised): small capitals (``ᴅᴍ ꜰᴏʀ ᴘʀɪᴄᴇ``) and the enclosed
or regional-indicator letters (``🅿🅰🆈``). For those we read the letter from the character's Unicode
name, which the standard library's ``unicodedata`` provides.

Compatibility forms (fullwidth, mathematical bold, circled, superscript letters) are handled by NFKC
in ``normalise`` before this table is consulted.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from confusable_homoglyphs.confusables import confusables_data

_STYLISED_NAME = re.compile(
    r"^(?:LATIN LETTER SMALL CAPITAL|NEGATIVE (?:CIRCLED|SQUARED) LATIN CAPITAL LETTER"
    r"|REGIONAL INDICATOR SYMBOL LETTER) ([A-Z])$"
)


def _is_ascii_alnum(text: str) -> bool:
    return len(text) == 1 and text.isascii() and text.isalnum()


@cache
def _confusables_to_ascii() -> dict[str, str]:
    table: dict[str, str] = {}
    for char, glyphs in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        targets = [g["c"] for g in glyphs if _is_ascii_alnum(g["c"])]
        if targets:
            # The data lists one prototype per character; should a future release list several,
            # the same case as the source wins, then the first listed.
            same_case = [t for t in targets if t.islower() == char.islower()]
            table[char] = (same_case or targets)[0]
    return table


@cache
def ascii_lookalike(char: str) -> str | None:
    """The ASCII letter or digit ``char`` imitates, or None when it imitates none."""
    if char.isascii():
        return None
    found = _confusables_to_ascii().get(char)
    if found is not None:
        return found
    match = _STYLISED_NAME.match(unicodedata.name(char, ""))
    if match is None:
        return None
    letter = match.group(1)
    return letter.lower() if "SMALL CAPITAL" in match.group(0) else letter
