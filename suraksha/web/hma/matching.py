"""HMA's matching routes: ``/m/raw_lookup``, ``/m/lookup`` (GET with a signal or a URL, POST with an
upload), ``/m/index/status`` and ``/m/compare``.

Shapes follow HMA's ``OpenMediaMatch/blueprints/matching.py``. A lookup answers
``{BANK: [{"bank_content_id": id, "distance": "4"}]}``, keyed first by signal type for media. Where we
differ from HMA: a lookup on an index that is not loaded or is stale answers 503, never an empty
result; a bank with a ratio above 0 matches every lookup (no coin flip: ``seed`` and
``bypass_coinflip`` are accepted and have no effect); allow-list banks suppress block hits of the same
signal type (``/m/lookup``; ``raw_lookup`` reports block hits before allow lists, as HMA's raw
lookup skips its own filtering); a bank content id is a bank entry id, one per signal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from suraksha.access.models import ApiScope
from suraksha.banks.matching import MatchHit
from suraksha.banks.models import Bank
from suraksha.errors import InvalidInput, NotFound, Unprocessable
from suraksha.signals.file_signals import FileSignals, HashState
from suraksha.signals.types import SignalKind, signal_type
from suraksha.web.auth import require
from suraksha.web.hma.media import (
    UPLOAD_BODY,
    VIDEO_MD5,
    content_type_of,
    fetch_url,
    hash_content,
    hma_name,
    parse_content_type,
    parse_signal,
    parse_signal_type,
    parse_types,
    read_upload,
    signals_for_query,
)
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/m", tags=["HMA: matching"], responses=PROBLEM_RESPONSES)

MatchesByBank = dict[str, list[dict[str, Any]]]

SIGNAL = Query(None, description="The hash (signal string).", max_length=200_000)
SIGNAL_TYPE = Query(None, description="pdq, vpdq, md5 (or video_md5), sha256.", max_length=40)
BANKS = Query(None, description="Comma-separated bank names to restrict the lookup to.", max_length=4096)
IGNORED = Query(None, description="Accepted for HMA clients; no coin flip here.", max_length=200)
MAX_COMPARE_BODY = 1024 * 1024

# What raw signal strings are compared with at /m/compare: far enough that a distance always comes back.
_COMPARE_REACH = {SignalKind.PDQ: 256, SignalKind.VPDQ: 100, SignalKind.MD5: 0, SignalKind.SHA256: 0}


def parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise InvalidInput(f"{name}: invalid boolean parameter {raw[:20]!r} - prefer true/false")


def parse_banks(state: WebState, raw: str | None) -> frozenset[str] | None:
    """The bank names asked for; every one must exist (an unknown name is an error, not "no match")."""
    if raw is None:
        return None
    names = frozenset(n.strip() for n in raw.split(",") if n.strip())
    if not names:
        return None
    with state.platform.db.session() as session:
        known = set(session.scalars(select(Bank.name).where(Bank.name.in_(names))))
    missing = names - known
    if missing:
        raise NotFound(f"no bank named {', '.join(sorted(missing))}; GET /c/banks lists the banks")
    return names


def distance_text(hit: MatchHit) -> str:
    """HMA reports distance as text; a vPDQ hit reports its query and target match percentages."""
    if hit.signal_type == SignalKind.VPDQ:
        return f"{hit.query_match_percent:.2f},{hit.target_match_percent:.2f}"
    return str(hit.distance if hit.distance is not None else 0)


def by_bank(hits: Iterable[MatchHit]) -> MatchesByBank:
    result: MatchesByBank = {}
    for hit in sorted(hits, key=lambda h: (h.bank, h.entry_id)):
        result.setdefault(hit.bank, []).append(
            {"bank_content_id": hit.entry_id, "distance": distance_text(hit)}
        )
    return result


def lookup_signal(
    state: WebState, signal: str, kind_name: str, banks: frozenset[str] | None
) -> MatchesByBank:
    kind = parse_signal_type(kind_name)
    outcome = state.index.match(signals_for_query(kind, signal), banks=banks)
    return by_bank(outcome.hits)


def lookup_file(
    state: WebState, signals: FileSignals, kinds: tuple[SignalKind, ...], banks: frozenset[str] | None
) -> dict[str, MatchesByBank]:
    """Every signal of a file, matched together (allow lists apply per signal type).

    A picture too flat for a reliable PDQ hash is not matched by PDQ: its ``pdq`` key is left out, and
    when nothing else matched either the answer is 422 (low quality), never a clean-looking ``{}``.
    """
    outcome = state.index.match(signals, banks=banks)
    result: dict[str, MatchesByBank] = {}
    for kind in kinds:
        if kind is SignalKind.PDQ and signals.state is HashState.LOW_QUALITY:
            continue
        if kind is SignalKind.VPDQ and signals.state is HashState.LOW_QUALITY:
            continue
        result[hma_name(kind, signals)] = by_bank(h for h in outcome.hits if h.signal_type == kind)
    if signals.state is HashState.LOW_QUALITY and not any(result.values()):
        quality = signals.pdq.quality if signals.pdq is not None else None
        raise Unprocessable(
            "low_quality: the media is too flat or featureless to match by PDQ/vPDQ"
            + (
                f" (PDQ quality {quality} is under the floor {state.index.quality_floor})"
                if quality is not None
                else ""
            )
            + "; its MD5 and SHA-256 matched nothing, so it was not fully checked"
        )
    return result


@router.get("/raw_lookup", dependencies=[require(ApiScope.READ)], summary="Raw hash lookup")
def raw_lookup(
    signal: str | None = SIGNAL,
    signal_type: str | None = SIGNAL_TYPE,
    banks: str | None = BANKS,
    include_distance: str = Query("false", max_length=20),
    state: WebState = Depends(get_state),
) -> dict[str, list[Any]]:
    """``{"matches": [id, ...]}``, or ``[{"bank_content_id", "distance"}]`` with include_distance."""
    if signal is None:
        raise InvalidInput("signal is required")
    if signal_type is None:
        raise InvalidInput("signal_type is required")
    with_distance = parse_bool("include_distance", include_distance)
    kind = parse_signal_type(signal_type)
    query = signals_for_query(kind, signal)
    names = parse_banks(state, banks)
    outcome = state.index.match(query, banks=names)
    hits = [h for h in [*outcome.hits, *outcome.suppressed] if names is None or h.bank in names]
    hits.sort(key=lambda h: h.entry_id)
    if with_distance:
        return {"matches": [{"bank_content_id": h.entry_id, "distance": distance_text(h)} for h in hits]}
    return {"matches": [h.entry_id for h in hits]}


@router.get("/lookup", dependencies=[require(ApiScope.READ)], summary="Look up a hash, or media at a URL")
def lookup_get(
    url: str | None = Query(None, max_length=4096),
    content_type: str | None = Query(None, max_length=40),
    types: str | None = Query(None, max_length=200),
    signal: str | None = SIGNAL,
    signal_type: str | None = SIGNAL_TYPE,
    banks: str | None = BANKS,
    seed: str | None = IGNORED,
    bypass_coinflip: str | None = IGNORED,
    state: WebState = Depends(get_state),
) -> dict[str, Any]:
    """With ``signal`` and ``signal_type``: ``{BANK: [matches]}``. With ``url``: the media is fetched
    and hashed, and the answer is keyed by signal type (only ``signal_type``'s part if given)."""
    names = parse_banks(state, banks)
    if url:
        wanted = parse_content_type(content_type) if content_type else None
        signals = hash_content(state, wanted, fetch_url(state, url))
        kinds = parse_types(types, content_type_of(signals))
        result = lookup_file(state, signals, kinds, names)
        if signal_type is not None:
            return dict(result.get(hma_name(parse_signal_type(signal_type), signals), {}))
        return dict(result)
    if not signal or not signal_type:
        raise InvalidInput("Either url or both signal and signal_type are required")
    return dict(lookup_signal(state, signal, signal_type, names))


async def _lookup_upload(request: Request, state: WebState, banks: str | None) -> dict[str, MatchesByBank]:
    content_type, data = await read_upload(request)

    def work() -> dict[str, MatchesByBank]:
        names = parse_banks(state, banks)
        signals = hash_content(state, content_type, data)
        return lookup_file(state, signals, content_type.signal_types, names)

    return await run_in_threadpool(work)


@router.post(
    "/lookup",
    dependencies=[require(ApiScope.READ)],
    summary="Look up an uploaded file",
    openapi_extra=UPLOAD_BODY,
)
async def lookup_post(
    request: Request,
    banks: str | None = BANKS,
    seed: str | None = IGNORED,
    bypass_coinflip: str | None = IGNORED,
    state: WebState = Depends(get_state),
) -> dict[str, MatchesByBank]:
    """``{signal_type: {BANK: [{"bank_content_id", "distance"}]}}`` for every signal of the file."""
    return await _lookup_upload(request, state, banks)


@router.get("/index/status", dependencies=[require(ApiScope.READ)], summary="Match index status")
def index_status(
    signal_type: str | None = SIGNAL_TYPE, state: WebState = Depends(get_state)
) -> dict[str, dict[str, Any]]:
    """Per signal type: ``present`` (loaded), ``built_to`` (the change-feed position applied, -1 when
    not loaded), ``size`` (entries), and ``ready`` (loaded and current: lookups answer)."""
    kinds = [parse_signal_type(signal_type)] if signal_type is not None else list(SignalKind)
    # Asked as HMA names it, answered under that name (the MD5 entries of pictures and videos alike).
    asked_video_md5 = signal_type is not None and signal_type.strip().lower() == VIDEO_MD5
    index = state.index
    loaded, ready = index.loaded, index.ready
    counts = index.entry_counts() if loaded else {}
    return {
        (VIDEO_MD5 if asked_video_md5 else kind.value): {
            "present": loaded,
            "built_to": index.position if loaded else -1,
            "size": counts.get(kind.value, 0),
            "ready": ready,
        }
        for kind in kinds
    }


@router.post(
    "/compare",
    dependencies=[require(ApiScope.READ)],
    summary="Compare pairs of hashes",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 2,
                            "maxItems": 2,
                        },
                        "example": {"pdq": ["f8f8f0cee0f4a84f...", "f8f8f0cee0f4a84f..."]},
                    }
                }
            },
        }
    },
)
async def compare(request: Request) -> dict[str, list[Any]]:
    """``{"pdq": [a, b]}`` -> ``{"pdq": [matched, {"distance": d}]}``, for each signal type given."""
    body = await request.body()
    if len(body) > MAX_COMPARE_BODY:
        raise InvalidInput(f"the body is over {MAX_COMPARE_BODY:,} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("Request input was not JSON") from None
    except RecursionError:  # a body not declared as JSON passes JsonDepthLimit: refuse it here too
        raise InvalidInput("Request input nests too deeply: send a flat {signal_type: [a, b]}") from None
    if not isinstance(payload, dict):
        raise InvalidInput("Request input was not a dict")
    return await run_in_threadpool(compare_pairs, payload)


def compare_pairs(payload: dict[str, Any]) -> dict[str, list[Any]]:
    results: dict[str, list[Any]] = {}
    for name, pair in payload.items():
        if not isinstance(pair, list):
            raise InvalidInput(f"Comparison hashes for {name} was not a list")
        if len(pair) != 2 or not all(isinstance(v, str) for v in pair):
            raise InvalidInput(f"Comparison hash list for {name} must be exactly 2 strings")
        kind = parse_signal_type(name)
        left, right = parse_signal(kind, pair[0]), parse_signal(kind, pair[1])
        cls = signal_type(kind)
        distance = cls.naive_compare(left, right, _COMPARE_REACH[kind])
        matched = distance is not None and distance <= cls.default_threshold
        results[name] = [matched, {"distance": distance}]
    return results
