"""Phone numbers in text, in E.164.

Google's libphonenumber (``phonenumbers``) finds and validates them: ``PhoneNumberMatcher`` at
``Leniency.VALID`` reports only numbers that are valid for their region, which keeps years, prices and
quantities out ("paid 1500 in 2024"). Numbers without a country code are read in the default region
(``SURAKSHA_RULES_PHONE_REGION``, India by default).

It already reads digits spaced apart ("9 8 7 6 5 4 3 2 1 0"; tagged obfuscated) and digits of other
scripts. What it does not read is letters standing in for digits ("98765 432l0", "9876S43210"); a
second pass takes runs of digits with at most three such letters, swaps them back, and keeps the
result only if libphonenumber finds a valid number in it.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from suraksha.rules.found import Found
from suraksha.rules.models import EntityKind, EntityTag

_LETTER_DIGITS = str.maketrans({"o": "0", "O": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"})
_DIGITISH = re.compile(r"(?<![A-Za-z0-9+])\+?(?:[0-9oOlI|SB][ .-]{0,2}){9,15}[0-9oOlI|SB](?![A-Za-z0-9])")
_MAX_LETTERS_AS_DIGITS = 3
_MIN_REAL_DIGITS = 7
_SPACED_GROUPS = 6  # "+1 (650) 253-0000" is four groups; one digit at a time is evasion


def find_phones(text: str, region: str) -> list[Found]:
    found: list[Found] = []
    for phone in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
        value = phonenumbers.format_number(phone.number, PhoneNumberFormat.E164)
        groups = len([g for g in re.split(r"\D+", phone.raw_string) if g])
        tags = (EntityTag.OBFUSCATED,) if groups >= _SPACED_GROUPS else ()
        found.append(Found(EntityKind.PHONE, value, phone.start, phone.end, tags=tags))
    for match in _DIGITISH.finditer(text):
        raw = match.group()
        letters = sum(1 for c in raw if c in "oOlI|SB")
        real = sum(1 for c in raw if c.isdigit())
        if not 0 < letters <= _MAX_LETTERS_AS_DIGITS or real < _MIN_REAL_DIGITS:
            continue
        digits = re.sub(r"[^0-9+]", "", raw.translate(_LETTER_DIGITS))
        e164 = _valid_e164(digits, region)
        if e164 is not None:
            tags = (EntityTag.OBFUSCATED,)
            found.append(Found(EntityKind.PHONE, e164, match.start(), match.end(), tags=tags))
    return found


def _valid_e164(digits: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
