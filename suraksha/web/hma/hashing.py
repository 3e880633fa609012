"""HMA's hashing routes: ``GET /h/hash?url=...`` and ``POST /h/hash`` (multipart upload).

Shapes follow HMA's ``OpenMediaMatch/blueprints/hashing.py``: the answer maps signal-type names to
signal strings (``{"pdq": "...", "md5": "...", "sha256": "..."}``); ``types`` narrows it; the upload's
field is named after its content type. URLs go through our SSRF-safe fetcher only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from suraksha.access.models import ApiScope
from suraksha.web.auth import require
from suraksha.web.hma.media import (
    UPLOAD_BODY,
    ContentType,
    content_type_of,
    fetch_url,
    hash_content,
    parse_content_type,
    parse_types,
    read_upload,
    signal_values,
)
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/h", tags=["HMA: hashing"], responses=PROBLEM_RESPONSES)

URL = Query(description="http(s) URL of the media, fetched from public addresses only.", max_length=4096)
CONTENT_TYPE = Query(None, description="photo or video; default: what the bytes are.", max_length=40)
TYPES = Query(None, description="Comma-separated signal types to return (default: all).", max_length=200)


def hash_url(state: WebState, url: str, content_type: str | None, types: str | None) -> dict[str, str]:
    wanted = parse_content_type(content_type) if content_type else None
    signals = hash_content(state, wanted, fetch_url(state, url))
    return signal_values(signals, parse_types(types, content_type_of(signals)))


def hash_upload(state: WebState, content_type: ContentType, data: bytes, types: str | None) -> dict[str, str]:
    kinds = parse_types(types, content_type)
    return signal_values(hash_content(state, content_type, data), kinds)


@router.get("/hash", dependencies=[require(ApiScope.READ)], summary="Hash content from a URL")
def hash_media(
    url: str = URL,
    content_type: str | None = CONTENT_TYPE,
    types: str | None = TYPES,
    state: WebState = Depends(get_state),
) -> dict[str, str]:
    return hash_url(state, url, content_type, types)


@router.post(
    "/hash",
    dependencies=[require(ApiScope.READ)],
    summary="Hash an uploaded file",
    openapi_extra=UPLOAD_BODY,
)
async def hash_media_post(
    request: Request,
    types: str | None = TYPES,
    state: WebState = Depends(get_state),
) -> dict[str, str]:
    content_type, data = await read_upload(request)
    return await run_in_threadpool(hash_upload, state, content_type, data, types)
