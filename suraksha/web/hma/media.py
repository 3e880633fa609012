"""What the HMA routes share: content types, signal-type names, reading an upload or a URL, hashing.

HMA names a multipart file field after its content type (``photo`` or ``video``) and returns hashes
keyed by signal-type name. Our names are ``pdq``, ``vpdq``, ``md5`` and ``sha256``; HMA's
``video_md5`` is accepted on input as another name for ``md5`` (an MD5 of the file's bytes either way).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from suraksha.errors import ExternalServiceError, InvalidInput, TooLarge
from suraksha.media.detect import MediaKind
from suraksha.media.errors import CorruptMedia, DecodeTimeout, MediaError, MediaTooLarge, UnsupportedMedia
from suraksha.outbound.fetch import FetchedMedia, FetchFailureReason
from suraksha.outbound.targets import loggable_url
from suraksha.signals.file_signals import FileSignals, HashState, hash_bytes
from suraksha.signals.pdq import PdqHash
from suraksha.signals.types import SignalKind, signal_type
from suraksha.signals.vpdq import parse_vpdq
from suraksha.web.state import WebState

log = logging.getLogger(__name__)

ALIASES: Mapping[str, SignalKind] = {"video_md5": SignalKind.MD5}
CALLER_PDQ_QUALITY = 100
"""A PDQ hash given as a string carries no quality; the caller vouches for it (as in HMA), so it is
matched as a full-quality hash."""


class ContentType(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"

    @property
    def media_kind(self) -> MediaKind:
        return MediaKind.IMAGE if self is ContentType.PHOTO else MediaKind.VIDEO

    @property
    def signal_types(self) -> tuple[SignalKind, ...]:
        """What we hash content of this type into, in the order we report it."""
        first = SignalKind.PDQ if self is ContentType.PHOTO else SignalKind.VPDQ
        return (first, SignalKind.MD5, SignalKind.SHA256)


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "Exactly one file, in the field named after its content type.",
                    "properties": {
                        "photo": {"type": "string", "format": "binary"},
                        "video": {"type": "string", "format": "binary"},
                    },
                    "minProperties": 1,
                    "maxProperties": 1,
                }
            }
        },
    }
}


def parse_content_type(name: str) -> ContentType:
    try:
        return ContentType(name.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"no such content_type: {name[:40]!r}; expected one of {', '.join(c.value for c in ContentType)}"
        ) from None


def parse_signal_type(name: str) -> SignalKind:
    normalised = name.strip().lower()
    if normalised in ALIASES:
        return ALIASES[normalised]
    try:
        return SignalKind(normalised)
    except ValueError:
        known = sorted([*(k.value for k in SignalKind), *ALIASES])
        raise InvalidInput(f"No such SignalType {name[:40]!r}; expected one of {', '.join(known)}") from None


def parse_signal(kind: SignalKind, value: str) -> str:
    try:
        return signal_type(kind).validate(value)
    except ValueError as exc:
        raise InvalidInput(f"invalid {kind.value} signal: {exc}") from None


def parse_types(raw: str | None, content_type: ContentType) -> tuple[SignalKind, ...]:
    """HMA's ``types`` parameter: a comma-separated choice among the content type's signal types."""
    offered = content_type.signal_types
    if raw is None:
        return offered
    chosen: list[SignalKind] = []
    for name in (n.strip() for n in raw.split(",")):
        if not name:
            continue
        kind = parse_signal_type(name)
        if kind not in offered:
            raise InvalidInput(f"signal type {name!r} is not produced for {content_type.value} content")
        if kind not in chosen:
            chosen.append(kind)
    if not chosen:
        raise InvalidInput("empty signal type selection (types=)")
    return tuple(chosen)


def signals_for_query(kind: SignalKind, value: str) -> FileSignals:
    """A single signal given as a string, shaped as a file's signals for the match index."""
    normalised = parse_signal(kind, value)
    signals = FileSignals(path=None, size=0)
    if kind is SignalKind.MD5:
        signals.md5 = normalised
    elif kind is SignalKind.SHA256:
        signals.sha256 = normalised
    elif kind is SignalKind.PDQ:
        signals.pdq = PdqHash(bytes.fromhex(normalised), CALLER_PDQ_QUALITY)
    else:
        signals.vpdq = parse_vpdq(normalised)
    return signals


VIDEO_MD5 = "video_md5"


def hma_name(kind: SignalKind, signals: FileSignals | None = None) -> str:
    """The name HMA gives a signal type: a video's MD5 is ``video_md5`` (HMA's VideoMD5Signal); every
    other name is ours (a picture's MD5 is ``md5``, which HMA does not produce)."""
    if (
        kind is SignalKind.MD5
        and signals is not None
        and signals.media_format is not None
        and signals.media_format.kind is MediaKind.VIDEO
    ):
        return VIDEO_MD5
    return kind.value


def signal_values(signals: FileSignals, kinds: tuple[SignalKind, ...]) -> dict[str, str]:
    """HMA's hash answer: signal-type name to signal string, for the kinds asked for (a video's MD5 as
    ``video_md5``)."""
    values: dict[str, str] = {}
    for kind in kinds:
        if kind is SignalKind.PDQ and signals.pdq is not None:
            values[kind.value] = signals.pdq.hex
        elif kind is SignalKind.VPDQ and signals.vpdq:
            values[kind.value] = "\n".join(f.to_line() for f in signals.vpdq)
        elif kind is SignalKind.MD5 and signals.md5:
            values[hma_name(kind, signals)] = signals.md5
        elif kind is SignalKind.SHA256 and signals.sha256:
            values[kind.value] = signals.sha256
    return values


# -- getting the bytes ---------------------------------------------------------------------------------


async def read_upload(request: Request) -> tuple[ContentType, bytes]:
    """The one file of a multipart request, and its content type (the field's name)."""
    header = request.headers.get("content-type", "")
    if not header.lower().startswith("multipart/form-data"):
        raise InvalidInput(
            "Missing multipart/form-data file upload: send the file as multipart/form-data, in a field "
            f"named photo or video (got Content-Type {header[:60]!r})"
        )
    form = await request.form(max_files=2, max_fields=8)
    try:
        files = [(name, value) for name, value in form.multi_items() if isinstance(value, UploadFile)]
        if not files:
            raise InvalidInput(
                "Missing multipart/form-data file upload: no file in a field named photo or video"
            )
        if len(files) > 1:
            raise InvalidInput("Only one file allowed per request")
        name, upload = files[0]
        content_type = parse_content_type(name)
        return content_type, await upload.read()
    finally:
        await form.close()


_FETCH_REFUSALS: Mapping[FetchFailureReason, str] = {
    FetchFailureReason.BLOCKED_ADDRESS: "the host is not at a public address",
    FetchFailureReason.BLOCKED_SCHEME: "only http and https URLs are fetched",
    FetchFailureReason.BLOCKED_PORT: "the port is not one media is fetched on (fetch_allowed_ports)",
    FetchFailureReason.NOT_ALLOWED_HOST: "the host is not on the allow-list (setting fetch_allowed_hosts)",
    FetchFailureReason.INVALID_URL: "not a URL that can be fetched (credentials in it, no host, too long)",
    FetchFailureReason.TOO_MANY_REDIRECTS: "too many redirects (setting fetch_max_redirects)",
    FetchFailureReason.UNSUPPORTED_ENCODING: "the answer was compressed (Content-Encoding); send it plain",
}
_FETCH_FAILURES: Mapping[FetchFailureReason, str] = {
    FetchFailureReason.TIMED_OUT: "the fetch did not finish in time (setting fetch_timeout_s)",
    FetchFailureReason.HTTP_ERROR: "the host answered with an error status",
    FetchFailureReason.DNS_FAILURE: "the host name could not be resolved",
    FetchFailureReason.CONNECTION_FAILED: "the host could not be reached",
}


def fetch_url(state: WebState, url: str) -> bytes:
    """The bytes behind a media URL, through the SSRF-safe fetcher (public addresses only, bounded
    size and time, every redirect checked). Refusals are 400, a file over the limit 413, a host
    that fails or times out 502.

    The caller learns which rule stopped the fetch and nothing else: the fetcher's detail names the
    addresses a host name resolved to (what an internal name points at, for whoever probes with
    URLs), so it goes to the log only."""
    outcome = state.fetcher.fetch(url)
    if isinstance(outcome, FetchedMedia):
        return outcome.content
    log.info(
        "event=hma.fetch_refused url=%s reason=%s detail=%r",
        loggable_url(outcome.url),
        outcome.reason.value,
        outcome.detail[:300],
    )
    reason = outcome.reason
    if reason is FetchFailureReason.TOO_LARGE:
        raise TooLarge(
            "Content too large: the media at the URL is over the fetch limit of "
            f"{state.fetcher.policy.max_bytes:,} bytes (setting fetch_max_bytes)"
        )
    if reason in _FETCH_FAILURES:
        status = f" (HTTP {outcome.status})" if outcome.status is not None else ""
        raise ExternalServiceError(f"Failed to fetch URL ({reason.value}): {_FETCH_FAILURES[reason]}{status}")
    explained = _FETCH_REFUSALS.get(reason, "refused")
    raise InvalidInput(f"Invalid or unsafe URL provided ({reason.value}): {explained}")


# -- hashing -------------------------------------------------------------------------------------------

_ERROR_OF: Mapping[HashState, type[MediaError]] = {
    HashState.UNSUPPORTED: UnsupportedMedia,
    HashState.CORRUPT: CorruptMedia,
    HashState.TOO_LARGE: MediaTooLarge,
    HashState.TIMED_OUT: DecodeTimeout,
}


def hash_content(state: WebState, content_type: ContentType | None, data: bytes) -> FileSignals:
    """Hash media bytes. A file that cannot be decoded is an error (422), never a file with fewer
    signals: an HMA client would read the missing PDQ as "no match". ``content_type`` None: whatever
    the bytes are; else the bytes must be that kind of media."""
    signals = hash_bytes(data, state.platform.hash_options())
    error = _ERROR_OF.get(signals.state)
    if error is not None:
        raise error(f"could not hash the {content_type or 'media'}: {signals.state.value}: {signals.error}")
    assert signals.media_format is not None
    kind = signals.media_format.kind
    if content_type is not None and kind is not content_type.media_kind:
        other = ContentType.PHOTO if kind is MediaKind.IMAGE else ContentType.VIDEO
        raise InvalidInput(
            f"the file sent as {content_type.value} is a {kind.value}: send it as {other.value}"
        )
    return signals


def content_type_of(signals: FileSignals) -> ContentType:
    assert signals.media_format is not None
    return ContentType.PHOTO if signals.media_format.kind is MediaKind.IMAGE else ContentType.VIDEO
