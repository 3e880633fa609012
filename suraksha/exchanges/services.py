"""Exchange configuration: create, enable, disable, delete, and what ``show``/``list``/``status``
answer. Functions take a session and leave committing to the caller. Fetching is
``suraksha.exchanges.sync``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.banks import services as bank_services
from suraksha.banks.models import Bank, BankKind
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.exchanges.models import (
    Exchange,
    ExchangeApi,
    ExchangeEntry,
    ExchangeFetchRun,
    Trust,
)
from suraksha.exchanges.ports import check_base_url

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
"""Upper case too, for HMA's names (``/c/exchanges`` names an exchange after its bank, ``MY_LIST``); two
names that differ only in case are refused, since the credentials' variable upper-cases the name."""
SETTINGS_KEYS: dict[ExchangeApi, dict[str, str]] = {
    ExchangeApi.NCMEC: {
        "environment": "NCMEC environment name (python-threatexchange NCMECEnvironment): Industry, NGO, ...",
        "url": "base URL instead of the environment's (the local stand-in: http://127.0.0.1:PORT)",
        "only_esp_ids": "list of member (ESP) ids whose entries are taken; empty: all",
        "negative_reason": "the reason GUID a false positive is reported with, when NCMEC offers several",
    },
    ExchangeApi.STATIC_SAMPLE: {},
    ExchangeApi.FILE: {
        "path": "the list file: 'TYPE VALUE' per line (pdq, video_md5), or VALUE with signal_type",
        "signal_type": "the type of every line when lines have no type (pdq or video_md5)",
        "page_size": "lines per page (default 1000)",
    },
    ExchangeApi.STOPNCII: {
        "url": "base URL instead of https://api.stopncii.org/v1 (the local stand-in: http://127.0.0.1:PORT/v1)",
    },
    ExchangeApi.TAT: {
        "url": "base URL instead of https://app.terrorismanalytics.org/ (the local stand-in: http://127.0.0.1:PORT/)",
    },
    ExchangeApi.THREATEXCHANGE: {
        "privacy_group": "the ThreatExchange privacy group's id (an integer)",
        "url": "base URL instead of https://graph.facebook.com/v26.0 (the local stand-in: http://127.0.0.1:PORT/v26.0)",
    },
}
NEEDS_CREDENTIALS = {ExchangeApi.NCMEC, ExchangeApi.STOPNCII, ExchangeApi.TAT, ExchangeApi.THREATEXCHANGE}
SETTINGS_MAX_CHARS = 4000
KEY_MAX = 300
_SECRET_WORDS = ("password", "passwd", "secret", "token", "credential", "user", "key")


def removal_reason(exchange: Exchange) -> str:
    return f"removed upstream (exchange {exchange.name})"


def _check_settings(api: ExchangeApi, settings: Mapping[str, Any]) -> dict[str, Any]:
    allowed = SETTINGS_KEYS[api]
    for key in settings:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise InvalidInput(
                f"setting {key!r}: credentials never go into an exchange's settings (they would be stored "
                "in the database); put them in the environment or the exchange_secrets_file"
            )
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidInput(
                f"setting {key!r} is not one the {api.value} exchange takes (it takes: {known})"
            )
    clean = dict(settings)
    if api in (ExchangeApi.STOPNCII, ExchangeApi.TAT, ExchangeApi.THREATEXCHANGE) and clean.get("url"):
        clean["url"] = check_base_url(str(clean["url"]))
    if api == ExchangeApi.THREATEXCHANGE:
        group = clean.get("privacy_group")
        if isinstance(group, str) and group.isdigit():
            clean["privacy_group"] = group = int(group)
        if not isinstance(group, int) or isinstance(group, bool) or group <= 0:
            raise InvalidInput(
                "a threatexchange exchange needs the setting privacy_group (its id, an integer)"
            )
    if api == ExchangeApi.NCMEC:
        if clean.get("url"):
            clean["url"] = check_base_url(str(clean["url"]))
        ids = clean.get("only_esp_ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise InvalidInput(
                "only_esp_ids must be a list of integers: --settings-json '{\"only_esp_ids\": [42]}'"
            )
    if api == ExchangeApi.FILE:
        if not isinstance(clean.get("path"), str) or not clean["path"]:
            raise InvalidInput("a file exchange needs the setting path (the list file)")
        if clean.get("signal_type") not in (None, "pdq", "video_md5"):
            raise InvalidInput("signal_type must be pdq or video_md5 (python-threatexchange's names)")
        size = clean.get("page_size", 1000)
        if not isinstance(size, int) or not 1 <= size <= 100_000:
            raise InvalidInput("page_size must be an integer from 1 to 100000")
    if len(json.dumps(clean)) > SETTINGS_MAX_CHARS:
        raise InvalidInput(f"an exchange's settings are at most {SETTINGS_MAX_CHARS} characters of JSON")
    return clean


def create_exchange(
    session: Session,
    name: str,
    api: ExchangeApi,
    bank_name: str,
    *,
    settings: Mapping[str, Any],
    trust: Trust = Trust.REVIEW,
    enabled: bool = True,
    by: str,
) -> Exchange:
    if not NAME.fullmatch(name):
        raise InvalidInput(f"exchange name {name!r} must be 1-100 letters, digits, '_' or '-'")
    if session.scalar(select(Exchange.id).where(func.lower(Exchange.name) == name.lower())) is not None:
        raise Conflict(f"an exchange named {name!r} already exists; `suraksha exchange list` shows them")
    bank = bank_services.get_bank(session, bank_name)
    if bank.kind == BankKind.ALLOW:
        raise InvalidInput(f"bank {bank.name!r} is an allow list: an exchange syncs into a block bank")
    exchange = Exchange(
        name=name,
        api=ExchangeApi(api).value,
        bank_id=bank.id,
        enabled=enabled,
        settings=json.dumps(_check_settings(ExchangeApi(api), settings), sort_keys=True),
        trust=Trust(trust).value,
        checkpoint=None,
        checkpoint_version=0,
        generation=0,
        failures=0,
        last_error="",
        next_fetch_at=None,
        created_at=utcnow(),
        created_by=by,
    )
    session.add(exchange)
    session.flush()
    audit.record(
        session,
        by,
        audit.AuditAction.EXCHANGE_CHANGE,
        f"exchange:{name}",
        {"change": "create", "api": exchange.api, "bank": bank.name, "trust": exchange.trust},
    )
    log.info("event=exchange.create exchange=%s api=%s bank=%s", name, exchange.api, bank.name)
    return exchange


def get_exchange(session: Session, name: str) -> Exchange:
    exchange = session.scalar(select(Exchange).where(Exchange.name == name))
    if exchange is None:
        raise NotFound(f"no exchange named {name!r}; `suraksha exchange list` shows them")
    return exchange


def list_exchanges(session: Session) -> list[Exchange]:
    return list(session.scalars(select(Exchange).order_by(Exchange.name)))


def set_enabled(session: Session, name: str, enabled: bool, *, by: str) -> Exchange:
    exchange = get_exchange(session, name)
    exchange.enabled = enabled
    if enabled:
        exchange.next_fetch_at = None  # due at once
    audit.record(
        session,
        by,
        audit.AuditAction.EXCHANGE_CHANGE,
        f"exchange:{name}",
        {"change": "enable" if enabled else "disable"},
    )
    return exchange


def update_exchange(
    session: Session,
    name: str,
    *,
    trust: Trust | None = None,
    settings: Mapping[str, Any] | None = None,
    by: str,
) -> Exchange:
    """Change what a match on the exchange's entries may lead to (``trust``) and/or the API's settings
    (replaced whole, checked as at creation; never credentials). The checkpoint is kept: a changed URL
    or file goes on from where the list was. Audited with the old and new values."""
    exchange = get_exchange(session, name)
    changes: dict[str, object] = {}
    if trust is not None and Trust(trust).value != exchange.trust:
        changes["trust"] = {"from": exchange.trust, "to": Trust(trust).value}
        exchange.trust = Trust(trust).value
    if settings is not None:
        clean = json.dumps(_check_settings(ExchangeApi(exchange.api), settings), sort_keys=True)
        if clean != exchange.settings:
            changes["settings"] = {"from": json.loads(exchange.settings or "{}"), "to": json.loads(clean)}
            exchange.settings = clean
    if changes:
        audit.record(
            session,
            by,
            audit.AuditAction.EXCHANGE_CHANGE,
            f"exchange:{name}",
            {"change": "update", **changes},
        )
        log.info("event=exchange.update exchange=%s changed=%s", name, ",".join(sorted(changes)))
    return exchange


def delete_exchange(session: Session, name: str, *, by: str) -> None:
    """Forget the exchange, its records and runs. The entries it put in the bank stay there (disable
    them, or the bank, the usual way)."""
    exchange = get_exchange(session, name)
    for model in (ExchangeEntry, ExchangeFetchRun):
        session.execute(delete(model).where(model.exchange_id == exchange.id))
    session.delete(exchange)
    session.flush()
    audit.record(session, by, audit.AuditAction.EXCHANGE_CHANGE, f"exchange:{name}", {"change": "delete"})


def exchange_settings(exchange: Exchange) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(exchange.settings or "{}")
    return loaded


def exchange_view(session: Session, exchange: Exchange, *, credentials: str | None) -> dict[str, object]:
    """What ``show``/``list``/``status`` answer. ``credentials`` names where they were found (never
    the value), or None."""
    bank = session.get(Bank, exchange.bank_id)
    live = session.scalar(
        select(func.count(func.distinct(ExchangeEntry.bank_entry_id))).where(
            ExchangeEntry.exchange_id == exchange.id, ExchangeEntry.removed.is_(False)
        )
    )
    last = session.scalar(
        select(ExchangeFetchRun)
        .where(ExchangeFetchRun.exchange_id == exchange.id)
        .order_by(ExchangeFetchRun.id.desc())
        .limit(1)
    )
    checkpoint = json.loads(exchange.checkpoint) if exchange.checkpoint else None
    return {
        "name": exchange.name,
        "api": exchange.api,
        "bank": bank.name if bank else None,
        "enabled": exchange.enabled,
        "trust": exchange.trust,
        "settings": exchange_settings(exchange),
        "credentials": credentials
        if credentials
        else ("missing" if ExchangeApi(exchange.api) in NEEDS_CREDENTIALS else "not needed"),
        "entries": live or 0,
        "checkpoint": checkpoint,
        "next_fetch_at": exchange.next_fetch_at.isoformat() if exchange.next_fetch_at else None,
        "last_success_at": exchange.last_success_at.isoformat() if exchange.last_success_at else None,
        "failures": exchange.failures,
        "last_error": exchange.last_error,
        "last_run": run_view(last) if last else None,
    }


def run_view(run: ExchangeFetchRun) -> dict[str, object]:
    return {
        "id": run.id,
        "state": run.state,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "pages": run.pages,
        "added": run.added,
        "updated": run.updated,
        "removed": run.removed,
        "error": run.error,
        "by": run.by,
    }


def runs_of(session: Session, exchange: Exchange, limit: int = 20) -> list[ExchangeFetchRun]:
    return list(
        session.scalars(
            select(ExchangeFetchRun)
            .where(ExchangeFetchRun.exchange_id == exchange.id)
            .order_by(ExchangeFetchRun.id.desc())
            .limit(limit)
        )
    )
