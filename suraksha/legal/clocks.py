"""Legal clocks: every deadline comes from a jurisdiction file, never from code.

A jurisdiction file (``suraksha/legal/jurisdictions/IN.toml`` and the others, or an operator's own
through the ``legal_jurisdiction_paths`` setting) lists, for each kind of request and each step owed on
it, how long the platform has and where that period comes from. Periods change by amendment (India's
removal notices went from 36 h to 3 h in 2026), so a deployment updates a file, not the code. Where the
order itself states a time (a court order, a summons) ``stated_in_request`` says the request's own
deadline wins and the file's period is only the fallback.

A clock is computed, never stored: from the received time, the rule and ``now`` (a fake clock in tests).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from suraksha.errors import ConfigError, NotFound

MAX_FILE_BYTES = 1024 * 1024
DEFAULT_WARN_AT = (0.5, 0.8)


class RequestKind(StrEnum):
    """What an authority (or a user, for grievances) sends."""

    DATA_DISCLOSURE = "data_disclosure"
    PRESERVATION = "preservation"
    EMERGENCY_DISCLOSURE = "emergency_disclosure"
    BLOCKING_ORDER = "blocking_order"
    REMOVAL_NOTICE = "removal_notice"
    COMMISSION_NOTICE = "commission_notice"
    COURT_ORDER = "court_order"
    GRIEVANCE = "grievance"
    GRIEVANCE_INTIMATE_IMAGERY = "grievance_intimate_imagery"
    APPEAL = "appeal"
    """A user's appeal of a decision on their content or account: lodged through ``POST
    /api/v1/appeals`` (``suraksha.appeals``), never received at the legal desk."""


class Step(StrEnum):
    """What is owed on a request, each with its own clock."""

    ACKNOWLEDGE = "acknowledge"
    ACT = "act"  # remove, withhold, preserve
    ANSWER = "answer"  # disclose, reply, resolve
    HOLD = "hold"  # keep what was preserved this long
    LODGE = "lodge"  # the user may appeal this long after the decision


class ClockState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"
    OVERDUE = "overdue"
    MET = "met"
    MET_LATE = "met_late"


@dataclass(frozen=True)
class DeadlineRule:
    jurisdiction: str
    kind: RequestKind
    step: Step
    within: timedelta
    source: str
    warn_at: tuple[float, ...] = DEFAULT_WARN_AT
    stated_in_request: bool = False
    renewals: int = 0
    """How many times a hold may be extended, each by ``within`` (US 2703(f): once)."""
    note: str = ""


@dataclass(frozen=True)
class Clock:
    """One deadline at one moment."""

    rule: DeadlineRule
    started_at: datetime
    due_at: datetime
    now: datetime
    done_at: datetime | None = None

    @property
    def remaining(self) -> timedelta:
        """Time left (negative once overdue); for a met clock, what was left when it was met."""
        return self.due_at - (self.done_at or self.now)

    @property
    def share_elapsed(self) -> float:
        total = (self.due_at - self.started_at).total_seconds()
        used = ((self.done_at or self.now) - self.started_at).total_seconds()
        return used / total if total > 0 else 1.0

    @property
    def state(self) -> ClockState:
        if self.done_at is not None:
            return ClockState.MET if self.done_at <= self.due_at else ClockState.MET_LATE
        if self.now > self.due_at:
            return ClockState.OVERDUE
        if self.rule.warn_at and self.share_elapsed >= min(self.rule.warn_at):
            return ClockState.WARNING
        return ClockState.RUNNING

    @property
    def warnings_passed(self) -> tuple[float, ...]:
        """The warning shares of the time already passed (each one warns once)."""
        return tuple(w for w in self.rule.warn_at if self.share_elapsed >= w)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.rule.kind.value,
            "step": self.rule.step.value,
            "jurisdiction": self.rule.jurisdiction,
            "started_at": self.started_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "remaining_s": int(self.remaining.total_seconds()),
            "state": self.state.value,
            "source": self.rule.source,
        }


_DURATION = re.compile(r"(\d+)\s*(m|h|d)")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """'90m', '3h', '72h', '180d' (one number and one unit)."""
    found = _DURATION.fullmatch(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not a period such as 3h, 72h or 180d (minutes m, hours h, days d)")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@dataclass(frozen=True)
class IssuerRule:
    """Who may issue a kind of request there: the ranks the rule names (IT Rules r.3(1)(d): Joint
    Secretary or equivalent, or a DIG of police specially authorised)."""

    jurisdiction: str
    kind: RequestKind
    ranks: tuple[str, ...]
    source: str

    def allows(self, rank: str) -> bool:
        wanted = " ".join(rank.lower().split())
        return any(wanted == " ".join(r.lower().split()) for r in self.ranks)


class JurisdictionRules:
    """Every deadline rule of every loaded jurisdiction; a later file overrides an earlier one's rule for
    the same (jurisdiction, kind, step)."""

    def __init__(
        self,
        rules: Iterable[DeadlineRule],
        names: Mapping[str, str] | None = None,
        issuers: Iterable[IssuerRule] = (),
    ) -> None:
        self._rules = {(r.jurisdiction, r.kind, r.step): r for r in rules}
        self.names = dict(names or {})
        self._issuers = {(i.jurisdiction, i.kind): i for i in issuers}

    def issuer_rule(self, jurisdiction: str, kind: RequestKind) -> IssuerRule | None:
        """The ranks that may issue this kind there (the country's rule for a subdivision such as
        IN-DL), or None where no rule limits it."""
        code = jurisdiction.upper()
        return self._issuers.get((code, kind)) or self._issuers.get((code.split("-")[0], kind))

    def knows(self, jurisdiction: str, kind: RequestKind) -> bool:
        return bool(self.steps(jurisdiction, kind))

    @classmethod
    def load(cls, extra_paths: Iterable[Path] = ()) -> JurisdictionRules:
        """The built-in jurisdiction files, then the operator's (files or folders of ``*.toml``)."""
        rules: list[DeadlineRule] = []
        issuers: list[IssuerRule] = []
        names: dict[str, str] = {}
        folder = resources.files("suraksha.legal") / "jurisdictions"
        sources: list[tuple[str, str]] = [
            (f"suraksha/legal/jurisdictions/{entry.name}", entry.read_text(encoding="utf-8"))
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")
        ]
        for path in extra_paths:
            files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
            for file in files:
                if not file.is_file():
                    raise ConfigError(f"jurisdiction file {file} does not exist (legal_jurisdiction_paths)")
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise ConfigError(f"jurisdiction file {file} is over {MAX_FILE_BYTES} bytes")
                sources.append((str(file), file.read_text(encoding="utf-8")))
        for where, text in sources:
            code, name, parsed = parse_jurisdiction(text, where)
            names[code] = name
            rules.extend(parsed)
            issuers.extend(parse_issuers(text, where))
        return cls(rules, names, issuers)

    def rule(self, jurisdiction: str, kind: RequestKind, step: Step) -> DeadlineRule:
        found = self._rules.get((self._code(jurisdiction), kind, step))
        if found is None:
            raise NotFound(
                f"no {step.value} deadline for {kind.value} in {jurisdiction or '(no jurisdiction)'}: "
                "add one to a jurisdiction file (legal_jurisdiction_paths)"
            )
        return found

    def steps(self, jurisdiction: str, kind: RequestKind) -> list[DeadlineRule]:
        """Every step owed on a request of this kind there (a subdivision such as IN-DL follows its
        country's file), in the order they fall due."""
        code = self._code(jurisdiction)
        return sorted(
            (r for (j, k, _), r in self._rules.items() if j == code and k == kind),
            key=lambda r: r.within,
        )

    def _code(self, jurisdiction: str) -> str:
        code = jurisdiction.upper()
        return code if any(j == code for j, _, _ in self._rules) else code.split("-")[0]

    def __iter__(self) -> Any:
        return iter(self._rules.values())

    def clock(
        self,
        jurisdiction: str,
        kind: RequestKind,
        step: Step,
        *,
        started_at: datetime,
        now: datetime,
        stated_due_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> Clock:
        """The clock of one step: due ``within`` after ``started_at``, or at the deadline the request
        states where the rule lets the request state it."""
        rule = self.rule(jurisdiction, kind, step)
        due = stated_due_at if (rule.stated_in_request and stated_due_at is not None) else None
        return Clock(rule, started_at, due or started_at + rule.within, now, done_at)


_DEADLINE_KEYS = {"kind", "step", "within", "source", "warn_at", "stated_in_request", "renewals", "note"}


def parse_jurisdiction(text: str, where: str) -> tuple[str, str, list[DeadlineRule]]:
    """One jurisdiction file: ``jurisdiction``, ``name``, optional ``warn_at``, and ``[[deadline]]``
    tables of kind, step, within, source (required: every period says where it comes from)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    code = str(data.get("jurisdiction", "")).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ConfigError(f"{where}: 'jurisdiction' must be a two-letter code (ISO 3166, or EU)")
    warn_default = _warn_at(data.get("warn_at", list(DEFAULT_WARN_AT)), where)
    rules = []
    for number, entry in enumerate(data.get("deadline", []), 1):
        here = f"{where} deadline {number}"
        unknown = set(entry) - {
            "kind",
            "step",
            "within",
            "source",
            "warn_at",
            "stated_in_request",
            "renewals",
            "note",
        }
        if unknown:
            raise ConfigError(f"{here}: unknown key(s) {', '.join(sorted(unknown))}")
        try:
            kind = RequestKind(entry.get("kind"))
        except ValueError:
            known = ", ".join(k.value for k in RequestKind)
            raise ConfigError(f"{here}: kind {entry.get('kind')!r} is not one of {known}") from None
        try:
            step = Step(entry.get("step"))
            within = parse_duration(str(entry.get("within", "")))
        except ValueError as exc:
            raise ConfigError(f"{here}: {exc}") from None
        source = str(entry.get("source", "")).strip()
        if not source:
            raise ConfigError(
                f"{here}: every period needs its 'source' (the rule, section or policy it comes from)"
            )
        renewals = entry.get("renewals", 0)
        if not isinstance(renewals, int) or not 0 <= renewals <= 10:
            raise ConfigError(f"{here}: 'renewals' must be a whole number from 0 to 10")
        rules.append(
            DeadlineRule(
                jurisdiction=code,
                kind=kind,
                step=step,
                within=within,
                source=source,
                warn_at=_warn_at(entry["warn_at"], here) if "warn_at" in entry else warn_default,
                stated_in_request=bool(entry.get("stated_in_request", False)),
                renewals=renewals,
                note=str(entry.get("note", "")),
            )
        )
    return code, str(data.get("name", code)), rules


def parse_issuers(text: str, where: str) -> list[IssuerRule]:
    """The ``[[issuer]]`` tables of a jurisdiction file: kind, ranks, source."""
    data = tomllib.loads(text)
    code = str(data.get("jurisdiction", "")).strip().upper()
    rules = []
    for number, entry in enumerate(data.get("issuer", []), 1):
        here = f"{where} issuer {number}"
        try:
            kind = RequestKind(entry.get("kind"))
        except ValueError:
            raise ConfigError(f"{here}: kind {entry.get('kind')!r} is not a request kind") from None
        ranks = entry.get("ranks")
        source = str(entry.get("source", "")).strip()
        if (
            not isinstance(ranks, list)
            or not ranks
            or not all(isinstance(r, str) and r.strip() for r in ranks)
        ):
            raise ConfigError(f"{here}: 'ranks' must be a list of rank names")
        if not source:
            raise ConfigError(f"{here}: needs its 'source' (the rule that names the ranks)")
        rules.append(IssuerRule(code, kind, tuple(r.strip() for r in ranks), source))
    return rules


def _warn_at(raw: object, where: str) -> tuple[float, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, int | float) and 0 < v < 1 for v in raw):
        raise ConfigError(
            f"{where}: 'warn_at' must be a list of shares of the time between 0 and 1, e.g. [0.5, 0.8]"
        )
    return tuple(sorted(float(v) for v in raw))
