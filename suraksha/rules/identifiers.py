"""UPI IDs and e-mail addresses: both ``name@host``, told apart by the host.

A UPI ID (virtual payment address, VPA) is ``name@handle`` where the handle names the bank or app
(PSP) and has no dot: ``ravi@okaxis``. An e-mail's host is a domain with a public suffix. A handle we
know is a UPI ID wherever it appears; an unknown dot-less handle counts only with a UPI word nearby
("upi", "gpay", "phonepe"...), otherwise ``hi@everyone`` would be a payment address.

Both are also found when written to dodge extraction: ``ravi [at] okaxis``, ``ravi (at) ybl``,
``ravi at okaxis`` (known handles only), ``mail [at] example [dot] com``. The canonical value is the
lower-case address, so one UPI ID written ten ways joins ten accounts.

Every quantifier next to another is bounded, so no pattern here backtracks more than a constant per
position (the text is at most ``rules_max_text_chars`` long).
"""

from __future__ import annotations

import re

from suraksha.rules.domains import split_host
from suraksha.rules.found import Found
from suraksha.rules.models import EntityKind, EntityTag

# UPI handles of Indian banks and payment apps (NPCI's published list of PSP handles, abridged).
UPI_HANDLES = frozenset(
    {
        "upi", "okaxis", "okhdfcbank", "okicici", "oksbi", "okbizaxis", "okbizicici", "ybl", "ibl", "axl",
        "paytm", "ptyes", "ptaxis", "pthdfc", "ptsbi", "apl", "yapl", "rapl", "abfspay", "axisbank",
        "axisb", "hdfcbank", "hdfcbankjd", "icici", "sbi", "pnb", "kotak", "kmbl", "barodampay", "boi",
        "cnrb", "centralbank", "cbin", "idbi", "idbibank", "indus", "federal", "fbl", "aubank", "yesbank",
        "yesbankltd", "yesg", "ikwik", "freecharge", "airtel", "jio", "pingpay", "waaxis", "wahdfcbank",
        "waicici", "wasbi", "timecosmos", "postbank", "dbs", "citi", "citigold", "hsbc", "sc", "rbl",
        "idfcbank", "idfcfirst", "equitas", "ujjivan", "mahb", "unionbank", "uboi", "unionbankofindia",
        "indianbank", "indianbk", "iob", "ucobank", "allbank", "andb", "kvb", "karurvysyabank", "kbl",
        "dlb", "jkb", "tjsb", "nsdl", "jupiteraxis", "fam", "superyes", "naviaxis", "shriramhdfc",
        "goaxb", "dhani", "mobikwik", "payzapp", "amazonpay", "okpayaxis", "cmsidfc", "csbpay",
        "csbcash", "dcb", "hsbcbank", "lvb", "obc", "psb", "sib", "tmb", "utbi", "vijb", "yescred",
    }
)  # fmt: skip

_UPI_CONTEXT = re.compile(r"\b(?:upi|vpa|bhim|g ?pay|google ?pay|phone ?pe|paytm)\b", re.IGNORECASE)
_CONTEXT_WINDOW = 64

_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._-]{0,255}"
_HANDLE = r"[A-Za-z][A-Za-z0-9]{1,63}"
_UPI = re.compile(rf"(?<![A-Za-z0-9._@-])({_LOCAL})@({_HANDLE})(?![A-Za-z0-9@-]|\.[A-Za-z0-9])")
_OPEN, _CLOSE = r"[\[({<]", r"[\])}>]"
_AT_WRITTEN = (
    rf"(?:\s{{0,3}}{_OPEN}\s{{0,2}}at\s{{0,2}}{_CLOSE}\s{{0,3}}"
    r"|\s{1,3}at\s{1,3}|\s{1,3}@\s{0,3}|@\s{1,3})"
)
_UPI_WRITTEN = re.compile(
    rf"(?<![A-Za-z0-9._@-])({_LOCAL}){_AT_WRITTEN}({_HANDLE})(?![A-Za-z0-9@-]|\.[A-Za-z0-9])", re.IGNORECASE
)

_LABEL = r"[A-Za-z0-9-]{1,63}"
_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+/-])([A-Za-z0-9][A-Za-z0-9._%+-]{{0,63}})@({_LABEL}(?:\.{_LABEL}){{1,8}})"
    r"(?![A-Za-z0-9-])"
)
_DOT_WRITTEN = rf"(?:\s{{0,3}}{_OPEN}\s{{0,2}}dot\s{{0,2}}{_CLOSE}\s{{0,3}}|\s{{1,3}}dot\s{{1,3}})"
_EMAIL_WRITTEN = re.compile(
    rf"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{{0,63}}){_AT_WRITTEN}"
    rf"({_LABEL}(?:(?:{_DOT_WRITTEN}|\.){_LABEL}){{1,8}})(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT_WRITTEN + r"|\.", re.IGNORECASE)


def find_upi_ids(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _UPI.finditer(text):
        handle = match.group(2).lower()
        if handle in UPI_HANDLES or _near_upi_word(text, match.start(), match.end()):
            value = f"{match.group(1).lower()}@{handle}"
            found.append(Found(EntityKind.UPI_ID, value, match.start(), match.end()))
    for match in _UPI_WRITTEN.finditer(text):
        handle = match.group(2).lower()
        if handle in UPI_HANDLES:
            value = f"{match.group(1).lower()}@{handle}"
            tags = (EntityTag.OBFUSCATED,)
            found.append(Found(EntityKind.UPI_ID, value, match.start(), match.end(), tags=tags))
    return found


def find_emails(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _EMAIL.finditer(text):
        domain = match.group(2).lower()
        if split_host(domain) is not None:
            value = f"{match.group(1).lower()}@{domain}"
            found.append(Found(EntityKind.EMAIL, value, match.start(), match.end()))
    for match in _EMAIL_WRITTEN.finditer(text):
        written_at = text[match.end(1) : match.start(2)]
        separators = _DOT_SPLIT.findall(match.group(2))
        domain = ".".join(_DOT_SPLIT.split(match.group(2))).lower()
        if split_host(domain) is None:
            continue
        bracketed = any(c in written_at for c in "[({<")
        if not ("@" in written_at or bracketed or any(d != "." for d in separators)):
            continue  # "meet at example.com" is prose: a plain "at" counts only with a written "dot"
        value = f"{match.group(1).lower()}@{domain}"
        tags = (EntityTag.OBFUSCATED,)
        found.append(Found(EntityKind.EMAIL, value, match.start(), match.end(), tags=tags))
    return found


def _near_upi_word(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - _CONTEXT_WINDOW) : end + _CONTEXT_WINDOW]
    return _UPI_CONTEXT.search(window) is not None
