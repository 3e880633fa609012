"""HMA's exchange routes: ``/c/exchanges/apis``, ``/c/exchanges/api/{api}``, ``/c/exchanges`` (list,
create), ``/c/exchange/{name}`` (read, enable or disable, delete), ``/c/exchange/{name}/status`` and
``/c/exchange/{name}/credentials``, on top of ``suraksha.exchanges`` (the Platform's operations).

Shapes follow HMA's ``OpenMediaMatch/blueprints/curation.py``: APIs by python-threatexchange's names
(``sample``, ``ncmec``, ``local_file``: the three wired here), an exchange named after its bank, its
configuration as python-threatexchange's collaboration config (``name``, ``api``, ``enabled`` and the
API's own fields), its fetch status as HMA's ``FetchStatus``. We add ``bank``, ``trust`` and
``credential_status`` to an exchange. Where we differ on purpose: credentials are never taken over
HTTP (HMA stores them in its database; ours come from the environment or the secrets file), so a body
carrying them is refused (403, nothing stored, the value never echoed); deleting an
exchange keeps its bank and entries. Reading needs the read role; changing needs admin.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from suraksha.access.models import ApiScope
from suraksha.banks.models import BankCategory, BankKind
from suraksha.errors import Forbidden, InvalidInput, NotFound
from suraksha.exchanges.credentials import credentials_env_var
from suraksha.exchanges.models import ExchangeApi, Trust
from suraksha.exchanges.services import NEEDS_CREDENTIALS
from suraksha.web.auth import ApiCaller, require
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE

router = APIRouter(prefix="/c", tags=["HMA: exchanges"], responses=PROBLEM_RESPONSES)

HMA_API_NAMES: dict[str, ExchangeApi] = {
    "sample": ExchangeApi.STATIC_SAMPLE,
    "ncmec": ExchangeApi.NCMEC,
    "local_file": ExchangeApi.FILE,
    "stop_ncii": ExchangeApi.STOPNCII,
    "tat": ExchangeApi.TAT,
    "fb_threatexchange": ExchangeApi.THREATEXCHANGE,
}
"""python-threatexchange's ``get_name()`` of each API we wire, as HMA lists them."""
OUR_TO_HMA = {ours: hma for hma, ours in HMA_API_NAMES.items()}
HMA_BANK_NAME = re.compile(r"^[A-Z0-9_]+$")
NO_CREDENTIALS_OVER_HTTP = (
    "credentials are not taken over the API (they would be stored in the database): set "
    "SURAKSHA_EXCHANGE_<NAME>_CREDENTIALS, or the exchange_secrets_file (docs/exchanges.md)"
)
EXCHANGE_NAME = Path(
    description="The exchange's name (its bank's, when HMA's route made it).", max_length=100
)


def _no_credentials() -> Forbidden:
    """Refused by design (403; HMA answers 501 where its store keeps none). The body is never echoed."""
    return Forbidden(NO_CREDENTIALS_OVER_HTTP)


def _api(name: str) -> ExchangeApi:
    api = HMA_API_NAMES.get(name)
    if api is None:
        raise InvalidInput(f"no such Exchange API {name!r} (these are wired: {', '.join(HMA_API_NAMES)})")
    return api


class ApiAuth(BaseModel):
    """HMA's answer for an exchange API (its spelling, ``authentification``, kept)."""

    supports_authentification: bool
    has_set_authentification: bool = Field(
        description="Some exchange of this API has credentials (environment or secrets file)."
    )


class CredentialStatus(BaseModel):
    supports_auth: bool
    has_credentials: bool
    source: str | None = Field(description="environment, secrets_file, or null; never the value.")


class CredentialsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    credential_json: Any = None


class ExchangeCreate(BaseModel):
    """HMA's body, plus ``trust`` and ``category`` (the bank's, when it is made) of ours."""

    model_config = ConfigDict(extra="ignore")

    bank: str = Field(min_length=1, max_length=100)
    api: str | None = Field(None, max_length=50)
    api_json: Any = Field(default_factory=dict)
    credential_json: Any = None
    trust: Trust = Trust.REVIEW
    category: BankCategory = BankCategory.OTHER


class ExchangeUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool | None = None
    trust: Trust | None = None


def _credential_status(name: str, view: dict[str, Any]) -> CredentialStatus:
    supports = ExchangeApi(view["api"]) in NEEDS_CREDENTIALS
    where = str(view["credentials"])
    if where in ("missing", "not needed") or where.startswith("unusable"):
        return CredentialStatus(supports_auth=supports, has_credentials=False, source=None)
    source = "environment" if where == credentials_env_var(name) else "secrets_file"
    return CredentialStatus(supports_auth=supports, has_credentials=True, source=source)


def _settings_from_hma(api: ExchangeApi, api_json: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """python-threatexchange's collaboration config (HMA's ``api_json``) as our settings, and
    ``enabled``. ``name`` and ``api`` are HMA's to set; our settings' own names are taken too."""
    fields = {k: v for k, v in api_json.items() if k not in ("name", "api", "enabled")}
    enabled = api_json.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput("api_json.enabled must be true or false")
    if api == ExchangeApi.FILE and "filename" in fields:
        fields["path"] = fields.pop("filename")
    if api == ExchangeApi.NCMEC and isinstance(fields.get("environment"), str):
        # HMA's config carries the environment's URL (the enum's value); ours, its name. Loaded here:
        # the web app does not import python-threatexchange otherwise.
        from threatexchange.exchanges.clients.ncmec.hash_api import NCMECEnvironment  # noqa: PLC0415

        by_url = {e.value: e.name for e in NCMECEnvironment}
        fields["environment"] = by_url.get(fields["environment"], fields["environment"])
    return fields, enabled


def _hma_config(name: str, view: dict[str, Any]) -> dict[str, Any]:
    """HMA's dump of the collaboration config, and ours beside it."""
    api = ExchangeApi(str(view["api"]))
    settings: dict[str, Any] = dict(view["settings"])
    config: dict[str, Any] = {"name": view["name"], "api": OUR_TO_HMA[api], "enabled": view["enabled"]}
    if api == ExchangeApi.NCMEC:
        config["environment"] = settings.get("environment") or "Industry"
        config["only_esp_ids"] = settings.get("only_esp_ids", [])
    if api == ExchangeApi.FILE:
        config["filename"] = settings.get("path")
        config["signal_type"] = settings.get("signal_type")
    config.update(
        bank=view["bank"],
        trust=view["trust"],
        settings=settings,
        credential_status=_credential_status(name, view).model_dump(),
    )
    return config


def _unix(value: object) -> int | None:
    return int(datetime.fromisoformat(value).timestamp()) if isinstance(value, str) and value else None


@router.get("/exchanges/apis", dependencies=[require(ApiScope.READ)], summary="List exchange APIs")
def exchange_api_list() -> list[str]:
    return list(HMA_API_NAMES)


def _api_auth(state: WebState, name: str) -> ApiAuth:
    api = _api(name)
    supports = api in NEEDS_CREDENTIALS
    has = supports and any(
        _credential_status(str(v["name"]), v).has_credentials
        for v in state.platform.exchanges_list()
        if v["api"] == api.value
    )
    return ApiAuth(supports_authentification=supports, has_set_authentification=has)


@router.get("/exchanges/api/{api_name}", dependencies=[require(ApiScope.READ)], summary="An exchange API")
def exchange_api_config_get(
    api_name: str = Path(max_length=50), state: WebState = Depends(get_state)
) -> ApiAuth:
    return _api_auth(state, api_name)


@router.post(
    "/exchanges/api/{api_name}",
    dependencies=[require(ApiScope.ADMIN), WRITABLE],
    summary="Set an exchange API's credentials (refused: 403)",
)
def exchange_api_config_update(
    body: CredentialsBody, api_name: str = Path(max_length=50), state: WebState = Depends(get_state)
) -> ApiAuth:
    """A body without credentials (no ``credential_json``, or an empty one: HMA's "unset", here nothing
    is stored to unset) answers as the GET; with them, 403 (never stored, never echoed)."""
    answer = _api_auth(state, api_name)
    if body.credential_json:
        raise _no_credentials()
    return answer


@router.post(
    "/exchanges",
    status_code=201,
    dependencies=[WRITABLE],
    summary="Create an exchange (and its bank)",
)
def exchange_create(
    body: ExchangeCreate,
    caller: ApiCaller = require(ApiScope.ADMIN),
    state: WebState = Depends(get_state),
) -> dict[str, str]:
    """The exchange is named after ``bank`` (HMA's rule: upper case, digits, ``_``); the bank is made
    (a block bank of ``category``) unless one of that name exists, in the same transaction."""
    if not HMA_BANK_NAME.fullmatch(body.bank):
        raise InvalidInput("Field `bank` must match /^[A-Z0-9_]+$/")
    if not isinstance(body.api_json, dict):
        raise InvalidInput("Field `api_json` must be object")
    if body.api is None:
        raise InvalidInput("Field `api_type` is required")
    if body.api not in HMA_API_NAMES:
        raise InvalidInput(f"No such exchange type {body.api!r}")
    if body.credential_json:
        raise _no_credentials()
    api = HMA_API_NAMES[body.api]
    settings, enabled = _settings_from_hma(api, body.api_json)
    s = state.settings
    state.platform.exchange_create(
        body.bank,
        api,
        body.bank,
        settings=settings,
        trust=body.trust,
        enabled=enabled,
        new_bank={
            "category": body.category,
            "kind": BankKind.BLOCK,
            "description": f"kept in sync by the exchange {body.bank}",
            "pdq_threshold": s.default_pdq_threshold,
            "vpdq_query_percent": s.vpdq_query_match_percent,
            "vpdq_target_percent": s.vpdq_target_match_percent,
        },
        actor=f"api-key:{caller.name}",
    )
    return {"message": "Created successfully"}


@router.get("/exchanges", dependencies=[require(ApiScope.READ)], summary="List exchange names")
def exchange_list(state: WebState = Depends(get_state)) -> list[str]:
    return [str(v["name"]) for v in state.platform.exchanges_list()]


def _show(state: WebState, name: str) -> dict[str, Any]:
    try:
        return state.platform.exchange_show(name, runs=20)
    except NotFound:
        raise NotFound(f"Exchange {name!r} not found") from None


@router.get("/exchange/{exchange_name}", dependencies=[require(ApiScope.READ)], summary="Get an exchange")
def exchange_show_by_name(
    exchange_name: str = EXCHANGE_NAME, state: WebState = Depends(get_state)
) -> dict[str, Any]:
    return _hma_config(exchange_name, _show(state, exchange_name))


@router.get(
    "/exchange/{exchange_name}/status",
    dependencies=[require(ApiScope.READ)],
    summary="An exchange's fetch status",
)
def exchange_get_fetch_status(
    exchange_name: str = EXCHANGE_NAME, state: WebState = Depends(get_state)
) -> dict[str, Any]:
    """HMA's ``FetchStatus``: ``checkpoint_ts`` is NCMEC's ``get_entries_max_ts`` (a snapshot list's
    last complete pass for the others), ``fetched_items`` the entries the exchange holds now."""
    view = _show(state, exchange_name)
    runs: list[dict[str, Any]] = view["runs"]
    running = next((r for r in runs if r["state"] == "running"), None)
    finished = next((r for r in runs if r["state"] != "running"), None)
    checkpoint = view["checkpoint"] or {}
    checkpoint_ts = checkpoint.get("get_entries_max_ts") if isinstance(checkpoint, dict) else None
    if checkpoint_ts is None:
        checkpoint_ts = _unix(view["last_success_at"])
    return {
        "checkpoint_ts": checkpoint_ts,
        "running_fetch_start_ts": _unix(running["started_at"]) if running else None,
        "last_fetch_complete_ts": _unix(finished["finished_at"]) if finished else None,
        "last_fetch_succeeded": finished["state"] != "failed" if finished else None,
        "up_to_date": bool(finished and finished["state"] == "done"),
        "fetched_items": view["entries"],
    }


@router.get(
    "/exchange/{exchange_name}/credentials",
    dependencies=[require(ApiScope.READ)],
    summary="Where an exchange's credentials come from",
)
def exchange_credentials_get(
    exchange_name: str = EXCHANGE_NAME, state: WebState = Depends(get_state)
) -> CredentialStatus:
    return _credential_status(exchange_name, _show(state, exchange_name))


@router.post(
    "/exchange/{exchange_name}/credentials",
    dependencies=[require(ApiScope.ADMIN), WRITABLE],
    summary="Set an exchange's credentials (refused: 403)",
)
def exchange_credentials_set(
    body: CredentialsBody, exchange_name: str = EXCHANGE_NAME, state: WebState = Depends(get_state)
) -> CredentialStatus:
    """Credentials: 403 (an unknown exchange is 404 first, as HMA). None or empty (HMA's "clear"):
    nothing is stored here to clear, the answer is the GET's."""
    view = _show(state, exchange_name)
    if body.credential_json:
        raise _no_credentials()
    return _credential_status(exchange_name, view)


@router.put(
    "/exchange/{exchange_name}",
    dependencies=[WRITABLE],
    summary="Enable or disable an exchange (or change its trust)",
)
def exchange_update(
    body: ExchangeUpdate,
    exchange_name: str = EXCHANGE_NAME,
    caller: ApiCaller = require(ApiScope.ADMIN),
    state: WebState = Depends(get_state),
) -> dict[str, Any]:
    _show(state, exchange_name)
    actor = f"api-key:{caller.name}"
    if body.enabled is not None:
        state.platform.exchange_set_enabled(exchange_name, body.enabled, actor=actor)
    if body.trust is not None:
        state.platform.exchange_update(exchange_name, trust=body.trust, actor=actor)
    return _hma_config(exchange_name, _show(state, exchange_name))


@router.delete(
    "/exchange/{exchange_name}",
    dependencies=[WRITABLE],
    summary="Delete an exchange (its bank and entries stay)",
)
def exchange_delete(
    exchange_name: str = EXCHANGE_NAME,
    caller: ApiCaller = require(ApiScope.ADMIN),
    state: WebState = Depends(get_state),
) -> dict[str, str]:
    """200 whether or not it existed, as HMA."""
    with contextlib.suppress(NotFound):
        state.platform.exchange_delete(exchange_name, actor=f"api-key:{caller.name}")
    return {"message": "Exchange deleted"}
