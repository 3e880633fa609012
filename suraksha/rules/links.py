"""Links, and the messenger contacts they carry (Telegram, WhatsApp, Signal).

A link is found with a scheme (``https://...``) or bare (``bit.ly/xyz``, ``www.example.in``); its host
must end in a public suffix (``domains.split_host``), so ``file.txt`` and ``v1.2`` are not links. A bare
``word.word`` with neither "www." nor a path counts only under a commonly linked suffix or a known
service: prose often drops the space after a full stop. Trailing punctuation and an unbalanced closing
bracket are not part of a link ("(see bit.ly/x)." ends at ``x``).

The canonical URL joins the same destination written different ways: ``https`` for http(s), lower-case
host without ``www.``, no default port, no user name or password, no fragment (except on Signal, whose
links carry their payload there), no lone ``/`` path. Messenger links are reported twice: as a URL and
as the messenger contact they name (``t.me/<name>``, a WhatsApp number in E.164, a Signal link), so
rules and the account graph can ask for either. A Telegram ``@name`` counts with a Telegram word near it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, parse_qs, urlsplit

import phonenumbers

from suraksha.rules.domains import (
    COMMON_BARE_SUFFIXES,
    LINK_AGGREGATORS,
    SHORTENERS,
    SIGNAL_HOSTS,
    TELEGRAM_HOSTS,
    WHATSAPP_HOSTS,
    known_service,
    split_host,
)
from suraksha.rules.found import Found
from suraksha.rules.models import EntityKind, EntityTag

_URL_CHARS = r"[^\s<>\"'`]"
_SCHEMED = re.compile(rf"(?<![A-Za-z0-9])(?:https?|ftp)://{_URL_CHARS}{{1,2048}}", re.IGNORECASE)
_BARE = re.compile(
    r"(?<![A-Za-z0-9@._/%+-])(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z][A-Za-z0-9-]{1,62}(?![A-Za-z0-9@_-])"
    rf"(?::[0-9]{{1,5}})?(?:[/?#]{_URL_CHARS}{{0,2048}})?"
)
_TRAILING = ".,;:!?*'\""
_BRACKETS = {")": "(", "]": "[", "}": "{"}

_TELEGRAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_TELEGRAM_RESERVED = frozenset({"joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv", "c"})
_TELEGRAM_HANDLE = re.compile(
    r"(?<![A-Za-z0-9_@.])@([A-Za-z][A-Za-z0-9_]{4,31})(?![A-Za-z0-9_@]|\.[A-Za-z0-9])"
)
_TELEGRAM_WORD = re.compile(r"\b(?:telegram|tg|tele|telegr\.am|t\.me)\b", re.IGNORECASE)
_CONTEXT_WINDOW = 48


def find_links(text: str) -> list[Found]:
    found: list[Found] = []
    for pattern, bare in ((_SCHEMED, False), (_BARE, True)):
        for match in pattern.finditer(text):
            raw = _trim(match.group())
            parsed = _parse(raw, bare=bare)
            if parsed is None:
                continue
            parts, host = parsed
            start, end = match.start(), match.start() + len(raw)
            tags = _link_tags(host)
            found.append(Found(EntityKind.URL, _canonical(parts, host), start, end, tags=tags))
            messenger = _messenger(parts, host, start, end)
            if messenger is not None:
                found.append(messenger)
    found.extend(_telegram_handles(text))
    return found


def _trim(raw: str) -> str:
    while raw:
        last = raw[-1]
        if last in _TRAILING or (last in _BRACKETS and raw.count(_BRACKETS[last]) < raw.count(last)):
            raw = raw[:-1]
        else:
            break
    return raw


def _parse(raw: str, *, bare: bool) -> tuple[SplitResult, str] | None:
    try:
        parts = urlsplit(raw if not bare else f"https://{raw}")
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host:
        return None
    if not bare and _is_ip(host):
        return parts, host
    split = split_host(host)
    if split is None:
        return None
    if bare:
        has_more = bool(parts.path not in ("", "/") or parts.query or parts.fragment or parts.port)
        www = raw.lower().startswith("www.")
        if not (has_more or www or known_service(host) or split[1] in COMMON_BARE_SUFFIXES):
            return None
    return parts, host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _canonical(parts: SplitResult, host: str) -> str:
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    port = parts.port
    netloc = host if port is None or port in (80, 443) else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment and host in SIGNAL_HOSTS else ""
    path = "" if parts.path == "/" and not fragment else parts.path or ("/" if fragment else "")
    return f"{scheme}://{netloc}{path}{query}{fragment}"


def _link_tags(host: str) -> tuple[EntityTag, ...]:
    if host in SHORTENERS:
        return (EntityTag.SHORTENER,)
    if host in LINK_AGGREGATORS:
        return (EntityTag.LINK_AGGREGATOR,)
    return ()


def _messenger(parts: SplitResult, host: str, start: int, end: int) -> Found | None:
    segments = [s for s in parts.path.split("/") if s]
    if host in TELEGRAM_HOSTS and segments:
        first = segments[0]
        if first.startswith("+") and len(first) > 1:
            return _invite(EntityKind.TELEGRAM, f"t.me/{first}", start, end)
        if first == "joinchat" and len(segments) > 1:
            return _invite(EntityKind.TELEGRAM, f"t.me/+{segments[1]}", start, end)
        name = segments[1] if first == "s" and len(segments) > 1 else first
        if _TELEGRAM_NAME.match(name) and name.lower() not in _TELEGRAM_RESERVED:
            return Found(EntityKind.TELEGRAM, f"t.me/{name.lower()}", start, end)
    if host in WHATSAPP_HOSTS:
        if host == "chat.whatsapp.com" and segments:
            return _invite(EntityKind.WHATSAPP, f"chat.whatsapp.com/{segments[0]}", start, end)
        if host == "wa.me" and segments:
            if segments[0] == "message" and len(segments) > 1:
                return Found(EntityKind.WHATSAPP, f"wa.me/message/{segments[1]}", start, end)
            return Found(EntityKind.WHATSAPP, _e164_or(segments[0], f"wa.me/{segments[0]}"), start, end)
        phone = parse_qs(parts.query).get("phone", [""])[0]
        if phone:
            return Found(EntityKind.WHATSAPP, _e164_or(phone, f"wa.me/{phone}"), start, end)
        if segments[:1] == ["channel"] and len(segments) > 1:
            return Found(EntityKind.WHATSAPP, f"whatsapp.com/channel/{segments[1]}", start, end)
    if host in SIGNAL_HOSTS and parts.fragment:
        if host == "signal.group":
            return _invite(EntityKind.SIGNAL, f"signal.group/#{parts.fragment}", start, end)
        if parts.fragment.startswith("p/"):
            number = parts.fragment[2:]
            return Found(EntityKind.SIGNAL, _e164_or(number, f"signal.me/#{parts.fragment}"), start, end)
        return Found(EntityKind.SIGNAL, f"signal.me/#{parts.fragment}", start, end)
    return None


def _invite(kind: EntityKind, value: str, start: int, end: int) -> Found:
    return Found(kind, value, start, end, tags=(EntityTag.INVITE_LINK,))


def _e164_or(digits: str, fallback: str) -> str:
    """``digits`` (an international number, with or without "+") in E.164, else ``fallback``."""
    cleaned = digits.strip()
    if not cleaned.startswith("+"):
        cleaned = f"+{cleaned}"
    try:
        number = phonenumbers.parse(cleaned, None)
    except phonenumbers.NumberParseException:
        return fallback
    if not phonenumbers.is_valid_number(number):
        return fallback
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _telegram_handles(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _TELEGRAM_HANDLE.finditer(text):
        window = text[max(0, match.start() - _CONTEXT_WINDOW) : match.end() + _CONTEXT_WINDOW]
        if _TELEGRAM_WORD.search(window) is not None:
            value = f"t.me/{match.group(1).lower()}"
            found.append(Found(EntityKind.TELEGRAM, value, match.start(), match.end()))
    return found
