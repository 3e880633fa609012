"""Legal clocks: periods from jurisdiction files, computed against a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suraksha.errors import ConfigError, NotFound
from suraksha.legal.clocks import ClockState, JurisdictionRules, RequestKind, Step, parse_duration

RECEIVED = datetime(2022, 9, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules() -> JurisdictionRules:
    return JurisdictionRules.load()


def test_every_builtin_period_has_its_source(rules: JurisdictionRules) -> None:
    loaded = list(rules)
    assert {r.jurisdiction for r in loaded} == {"IN", "US", "EU"}
    assert all(r.source and r.within > timedelta(0) for r in loaded)


def test_india_disclosure_runs_72_hours_and_warns_then_goes_red(rules: JurisdictionRules) -> None:
    def at(hours: float) -> ClockState:
        now = RECEIVED + timedelta(hours=hours)
        return rules.clock("IN", RequestKind.DATA_DISCLOSURE, Step.ANSWER, started_at=RECEIVED, now=now).state

    assert at(0) is ClockState.RUNNING
    assert at(35.9) is ClockState.RUNNING
    assert at(36) is ClockState.WARNING  # half the time gone
    assert at(72) is ClockState.WARNING  # due at exactly 72 h, not yet late
    assert at(72.01) is ClockState.OVERDUE


def test_removal_notice_is_three_hours_since_the_2026_amendment(rules: JurisdictionRules) -> None:
    clock = rules.clock(
        "IN", RequestKind.REMOVAL_NOTICE, Step.ACT, started_at=RECEIVED, now=RECEIVED + timedelta(hours=1)
    )
    assert clock.due_at - RECEIVED == timedelta(hours=3)
    assert clock.remaining == timedelta(hours=2)
    assert "3(1)(d)" in clock.rule.source


def test_a_met_clock_says_whether_it_was_met_in_time(rules: JurisdictionRules) -> None:
    def done(hours: float) -> ClockState:
        return rules.clock(
            "IN",
            RequestKind.REMOVAL_NOTICE,
            Step.ACT,
            started_at=RECEIVED,
            now=RECEIVED + timedelta(days=3),
            done_at=RECEIVED + timedelta(hours=hours),
        ).state

    assert done(2.5) is ClockState.MET
    assert done(3.5) is ClockState.MET_LATE


def test_a_stated_deadline_wins_only_where_the_rule_allows(rules: JurisdictionRules) -> None:
    stated = RECEIVED + timedelta(days=10)
    summons = rules.clock(
        "IN",
        RequestKind.COMMISSION_NOTICE,
        Step.ANSWER,
        started_at=RECEIVED,
        now=RECEIVED,
        stated_due_at=stated,
    )
    assert summons.due_at == stated
    removal = rules.clock(
        "IN", RequestKind.REMOVAL_NOTICE, Step.ACT, started_at=RECEIVED, now=RECEIVED, stated_due_at=stated
    )
    assert removal.due_at == RECEIVED + timedelta(hours=3)  # the rule's 3 h binds whatever a notice says


def test_us_preservation_holds_90_days_renewable_once(rules: JurisdictionRules) -> None:
    hold = rules.rule("US", RequestKind.PRESERVATION, Step.HOLD)
    assert hold.within == timedelta(days=90) and hold.renewals == 1
    assert rules.rule("IN", RequestKind.PRESERVATION, Step.HOLD).within == timedelta(days=180)


def test_steps_in_the_order_they_fall_due(rules: JurisdictionRules) -> None:
    steps = rules.steps("IN", RequestKind.GRIEVANCE_INTIMATE_IMAGERY)
    assert [s.step for s in steps] == [Step.ACKNOWLEDGE, Step.ACT]


def test_unknown_jurisdiction_or_step_is_a_clear_error(rules: JurisdictionRules) -> None:
    with pytest.raises(NotFound, match="no answer deadline for blocking_order in FR"):
        rules.rule("FR", RequestKind.BLOCKING_ORDER, Step.ANSWER)


def test_an_operator_file_overrides_a_period(tmp_path: Path) -> None:
    (tmp_path / "in-local.toml").write_text(
        'jurisdiction = "IN"\n[[deadline]]\nkind = "data_disclosure"\nstep = "answer"\nwithin = "48h"\n'
        'source = "our counsel: answer sooner"\n'
    )
    rules = JurisdictionRules.load([tmp_path])
    assert rules.rule("IN", RequestKind.DATA_DISCLOSURE, Step.ANSWER).within == timedelta(hours=48)
    assert rules.rule("IN", RequestKind.REMOVAL_NOTICE, Step.ACT).within == timedelta(hours=3)


DEADLINE = '[[deadline]]\nkind = "court_order"\nstep = "act"\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('jurisdiction = "India"\n', "two-letter"),
        (
            'jurisdiction = "IN"\n[[deadline]]\nkind = "x"\nstep = "act"\nwithin = "3h"\nsource = "s"\n',
            "kind",
        ),
        ('jurisdiction = "IN"\n' + DEADLINE + 'within = "soon"\nsource = "s"\n', "3h"),
        ('jurisdiction = "IN"\n[[deadline]]\nkind = "court_order"\nstep = "act"\nwithin = "3h"\n', "source"),
        ('jurisdiction = "IN"\nwarn_at = [1.5]\n', "warn_at"),
        ('jurisdiction = "IN"\n' + DEADLINE + 'within = "3h"\nsource = "s"\nwhen = 1\n', "unknown key"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_a_bad_jurisdiction_file_is_a_clear_error(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(body)
    with pytest.raises(ConfigError, match=message):
        JurisdictionRules.load([tmp_path / "bad.toml"])


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(["m", "h", "d"]))
def test_durations_parse(number: int, unit: str) -> None:
    seconds = {"m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{number}{unit}").total_seconds() == number * seconds


@given(st.text(max_size=20))
def test_bad_durations_are_refused(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except ValueError:
        return
    assert parsed > timedelta(0)
