"""The DSA Transparency Database behind a port: ``StatementsApi`` submits one statement of reasons and
says what became of it. ``HttpStatementsApi`` is the real client; ``LocalStatementsApi`` the in-process
stand-in (``sor_api.TransparencyDatabase``) for development, which warns that nothing leaves.

The client sends the bearer token from the environment (``SURAKSHA_DSA_TOKEN``, never a setting in a
file), never logs it, and reaches only public addresses: the URL is checked and its name resolved and
pinned by ``suraksha.outbound`` (no DNS rebinding, no redirects followed, no private or metadata
addresses), HTTPS only.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import httpx

from suraksha.errors import ConfigError
from suraksha.outbound.addresses import AddressPolicy
from suraksha.outbound.pinning import PinnedBackend, PinnedTransport, Resolver, system_resolver
from suraksha.outbound.targets import TargetPolicy, TargetRefused, loggable_url, parse_target, resolve_target
from suraksha.outbound.webhooks import parse_retry_after
from suraksha.settings import Secret
from suraksha.transparency.sor_api import PUID_NOT_UNIQUE, TransparencyDatabase

log = logging.getLogger(__name__)

TOKEN_ENV = "SURAKSHA_DSA_TOKEN"  # noqa: S105 - the variable's name, not a token
MAX_ANSWER_BYTES = 256 * 1024
MAX_STATEMENT_BYTES = 64 * 1024


class Outcome(StrEnum):
    CREATED = "created"
    """Stored: ``uuid`` is the database's id for it."""
    ALREADY_STORED = "already_stored"
    """The puid was stored before (an earlier attempt whose answer was lost): ``uuid`` when the API
    returned the existing statement."""
    REFUSED = "refused"
    """422: the statement is invalid; sending it again cannot help."""
    RETRY = "retry"
    """Not stored, for now: a server error, a timeout, a refused token, an unreachable address."""


@dataclass(frozen=True)
class Submission:
    outcome: Outcome
    uuid: str | None = None
    detail: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    retry_after_s: float | None = None


class StatementsApi(Protocol):
    label: str

    def submit(self, statement: Mapping[str, Any]) -> Submission: ...


def interpret(status: int, body: object, *, retry_after: str | None = None) -> Submission:
    """What an answer of the statement API means (shared by the client and the local stand-in)."""
    answer = body if isinstance(body, dict) else {}
    if status == 201:
        found = answer.get("uuid")
        if not isinstance(found, str) or not found:
            return Submission(Outcome.RETRY, detail="201 without the statement's uuid")
        return Submission(Outcome.CREATED, uuid=found)
    if status == 422:
        errors = answer.get("errors")
        errors = (
            {str(k): [str(m) for m in v] for k, v in errors.items() if isinstance(v, list)}
            if isinstance(errors, dict)
            else {}
        )
        message = str(answer.get("message") or "422 Unprocessable Content")[:2000]
        if PUID_NOT_UNIQUE in errors.get("puid", []):
            existing = answer.get("existing")
            found = existing.get("uuid") if isinstance(existing, dict) else None
            return Submission(
                Outcome.ALREADY_STORED, uuid=found if isinstance(found, str) else None, detail=message
            )
        return Submission(Outcome.REFUSED, detail=message, errors=errors)
    if status in (401, 403):
        return Submission(Outcome.RETRY, detail=f"HTTP {status}: the token was refused (set {TOKEN_ENV})")
    delay = parse_retry_after(retry_after) if retry_after else None
    return Submission(Outcome.RETRY, detail=f"HTTP {status}", retry_after_s=delay)


class HttpStatementsApi:
    """``POST {base_url}/statement`` with the bearer token, over an address-checked, pinned connection."""

    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        timeout_s: float = 30.0,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        allow_loopback_ports_for_testing: Collection[int] = (),
    ) -> None:
        if not token.reveal():
            raise ConfigError(f"the Transparency Database token is empty: set {TOKEN_ENV}")
        self._policy = TargetPolicy(
            allowed_ports=None,
            addresses=AddressPolicy(loopback_ports_for_testing=frozenset(allow_loopback_ports_for_testing)),
        )
        url = base_url.rstrip("/") + "/statement"
        try:
            target = parse_target(url, self._policy)
        except TargetRefused as exc:
            raise ConfigError(f"dsa_sor_url {loggable_url(base_url)} is refused: {exc}") from None
        if target.url.scheme != "https" and not allow_loopback_ports_for_testing:
            raise ConfigError(f"dsa_sor_url {loggable_url(base_url)} must be https")
        self._url = url
        self._token = token
        self._timeout_s = timeout_s
        self._resolver = resolver
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self.label = loggable_url(base_url)

    def submit(self, statement: Mapping[str, Any]) -> Submission:
        body = json.dumps(statement, separators=(",", ":"), ensure_ascii=False).encode()
        if len(body) > MAX_STATEMENT_BYTES:
            return Submission(
                Outcome.REFUSED, detail=f"statement of {len(body)} bytes, over {MAX_STATEMENT_BYTES}"
            )
        deadline = time.monotonic() + self._timeout_s
        backend = PinnedBackend(deadline=deadline)
        try:
            target = parse_target(self._url, self._policy)
            backend.pin(target.host, resolve_target(target, self._policy, self._resolver, deadline))
            request = httpx.Request(
                "POST",
                target.url,
                headers={
                    "Authorization": f"Bearer {self._token.reveal()}",
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                },
                content=body,
                extensions={"timeout": httpx.Timeout(self._timeout_s).as_dict()},
            )
            with PinnedTransport(backend, self._ssl_context) as transport:
                response = transport.handle_request(request)
                try:
                    answer = _read(response)
                finally:
                    response.close()
        except TargetRefused as exc:
            log.warning("event=dsa_sor.refused_target url=%s reason=%s", self.label, exc.reason)
            return Submission(Outcome.RETRY, detail=f"address refused: {exc}")
        except httpx.HTTPError as exc:
            return Submission(Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}"[:500])
        try:
            parsed: object = json.loads(answer) if answer else {}
        except ValueError:
            parsed = {}
        return interpret(response.status_code, parsed, retry_after=response.headers.get("Retry-After"))


def _read(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > MAX_ANSWER_BYTES:
            return b""
        chunks.append(chunk)
    return b"".join(chunks)


class LocalStatementsApi:
    """The in-process stand-in: validates and stores like the API; nothing reaches the Commission."""

    def __init__(self, database: TransparencyDatabase | None = None, *, token: str = "local") -> None:  # noqa: S107 - the stand-in's own
        self.database = database or TransparencyDatabase(token, base_url="local:")
        self._header = f"Bearer {token}"
        self.label = "local stand-in (nothing is sent to the Transparency Database)"
        log.warning("event=dsa_sor.local statements of reasons go to the local stand-in, not the Commission")

    def submit(self, statement: Mapping[str, Any]) -> Submission:
        status, body = self.database.create(self._header, dict(statement))
        return interpret(status, body)
