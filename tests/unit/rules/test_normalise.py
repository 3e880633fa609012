"""Normalisation: each evasion is undone, and every span maps back to the original text."""

from __future__ import annotations

import pytest

from suraksha.rules import TextTooLong, TextView, normalise
from suraksha.rules.normalise import skeleton_of


@pytest.mark.parametrize(
    ("text", "skeleton"),
    [
        ("DM for price!", "dm for price"),
        ("s\u200bell", "seii"),  # zero-width space inside the word
        ("s\u200de\u2060l\ufeffl", "seii"),  # zero-width joiner, word joiner, BOM
        ("pa\u00adid", "paid"),  # soft hyphen
        ("\u202epaid\u202c", "paid"),  # bidi override
        ("\u3164paid", "paid"),  # Hangul filler, an invisible letter
        ("\u0440\u0430id", "paid"),  # Cyrillic er and a
        ("\u03c1\u03b1id", "paid"),  # Greek rho and alpha
        ("\u1d05\u1d0d \ua730\u1d0f\u0280 \u1d18\u0280\u026a\u1d04\u1d07", "dm for price"),  # small capitals
        ("\U0001d429\U0001d41a\U0001d422\U0001d41d", "paid"),  # mathematical bold
        ("\uff50\uff41\uff49\uff44", "paid"),  # fullwidth
        ("caf\u00e9", "cafe"),  # accent, precomposed
        ("cafe\u0301", "cafe"),  # accent, combining
        ("p@1d c0nt3nt", "paid content"),  # leetspeak
        ("$e11", "seii"),
        ("s e l l", "s e i i"),  # spacing is kept in the skeleton; keywords allow it (see matchers)
        ("s.e.l.l", "s e i i"),
        ("s-e-l-l", "s e i i"),
        ("s_e_l_l", "s e i i"),
        ("Stra\u00dfe", "strasse"),  # case folding expands
        ("buy now!", "buy now"),  # "!" ending a word is punctuation, not an "i"
        ("@name", "name"),
        ("price 500", "price 500"),  # digits with no letter beside them stay digits
        ("\u0915\u093f\u0924\u093e\u092c \u096f\u096e\u096d", "\u0915\u093f\u0924\u093e\u092c 987"),  # Hindi
    ],
)
def test_skeleton_undoes_evasion(text: str, skeleton: str) -> None:
    assert normalise(text).skeleton.text == skeleton


def test_normalised_view_keeps_case_and_digits() -> None:
    n = normalise("Pay RAVI@OK\u0430XIS \u0669\u0668")  # Cyrillic a, Arabic-Indic digits
    assert n.normalised.text == "Pay RAVI@OKaXIS 98"


def test_devanagari_marks_are_kept_not_stripped() -> None:
    word = "\u0915\u094d\u0937"  # ksha: the virama is a combining mark, and spelling
    assert normalise(word).normalised.text == word


@pytest.mark.parametrize("text", ["s\u200bell it", "\u0440\u0430id", "p@1d c0nt3nt", "cafe\u0301 \U0001d429"])
def test_every_view_maps_back_to_the_original(text: str) -> None:
    n = normalise(text)
    for view in TextView:
        mapped = n.view(view)
        for index in range(len(mapped.text)):
            start, end = mapped.to_original(index, index + 1)
            assert 0 <= start < end <= len(text)


def test_a_match_highlights_the_original_text() -> None:
    text = "Hi! p@\u200b1d  c0nt3nt here"
    n = normalise(text)
    start = n.skeleton.text.index("paid")
    end = start + len("paid content")
    assert n.skeleton.text[start:end] == "paid content"
    o_start, o_end = n.skeleton.to_original(start, end)
    assert text[o_start:o_end] == "p@\u200b1d  c0nt3nt"


def test_combining_accent_belongs_to_its_letter() -> None:
    text = "cafe\u0301"
    n = normalise(text)
    assert n.normalised.to_original(3, 4) == (3, 5)


def test_empty_span_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        normalise("abc").normalised.to_original(1, 1)


def test_text_over_the_limit_is_refused_not_cut() -> None:
    with pytest.raises(TextTooLong, match="SURAKSHA_RULES_MAX_TEXT_CHARS"):
        normalise("a" * 11, max_chars=10, what="field bio")
    assert normalise("a" * 10, max_chars=10).original == "a" * 10


def test_keywords_and_text_share_one_skeleton() -> None:
    assert skeleton_of("Link in Bio") == normalise("l1nk 1n b10").skeleton.text
