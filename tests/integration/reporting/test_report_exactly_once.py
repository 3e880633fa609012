"""Property: whatever fails, and wherever the process dies, a report finishes at most once at NCMEC,
and a report we record as finished is finished there. Hypothesis draws the failures (server errors,
refusals, lost answers at any step) and a crash point; the simulator runs in process
(``LocalNcmecApi``) so many cases run quickly on the real database."""

from __future__ import annotations

import contextlib
import itertools
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.ports import LocalNcmecApi
from suraksha.reporting.services import ReportRequest, prepare_report
from suraksha.reporting.simulator import simulator_from_xsd
from suraksha.reporting.submission import (
    EvidenceSource,
    ReportFailed,
    ReportSubmitter,
    RetryLater,
    SubmissionPolicy,
)
from suraksha.reporting.xml import CyberTiplineSchema
from tests.integration.reporting.conftest import OPTIONS, Crash, World

STEPS = ["submit", "upload", "fileinfo", "finish"]
failures = st.lists(
    st.tuples(
        st.sampled_from(STEPS),
        st.sampled_from(["server", "lost", "refused"]),
        st.integers(1, 2),
    ),
    max_size=3,
)
crashes = st.none() | st.sampled_from([f"{s}.{w}" for s in STEPS for w in ("before", "after")])
names = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(failures=failures, crash=crashes)
def test_a_report_finishes_at_most_once(
    world: World, xsd_path: Path, failures: list[tuple[str, str, int]], crash: str | None
) -> None:
    simulator = simulator_from_xsd(xsd_path, username="u", password="p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        api = LocalNcmecApi(simulator)
    for step, kind, times in failures:
        code = {"server": 1000, "refused": 4100, "lost": 0}[kind]
        simulator.fail(step, code, times, lost=kind == "lost")
    name = f"p{next(names)}"
    world.add_account(name, items=2)
    with world.db.session() as session:
        (report,) = prepare_report(
            session, ReportRequest(tuple(world.decisions[name]), approved_by=("a",)), actor="t"
        )
        report_id = report.id

    def submitter(**kwargs: object) -> ReportSubmitter:
        schema = CyberTiplineSchema.from_path(xsd_path)
        policy = SubmissionPolicy(retry_base_s=0, retry_max_s=0.001)
        return ReportSubmitter(world.db, api, schema, EvidenceSource(world.store), OPTIONS, policy, **kwargs)  # type: ignore[arg-type]

    def die(point: str) -> None:
        if point == crash:
            raise Crash(point)

    with contextlib.suppress(Crash, RetryLater, ReportFailed):
        submitter(checkpoint=die).run(report_id)
    state = ReportState.APPROVED
    for _ in range(40):
        try:
            state = ReportState(submitter().run(report_id))
            break
        except RetryLater:
            continue
        except ReportFailed:
            state = ReportState.FAILED
            break
    with world.db.reading() as session:
        row = session.get(CyberTiplineReport, report_id)
        assert row is not None
        recorded, ncmec_id, failure = row.state, row.ncmec_report_id, row.failure
    assert simulator.counters.finishes <= 1
    if recorded == ReportState.FINISHED:
        assert list(simulator.finished) == [ncmec_id]
        assert len(simulator.finished[ncmec_id].files) == 2  # type: ignore[index]
    else:
        assert state == ReportState.FAILED and recorded == ReportState.FAILED
        assert not simulator.finished  # a failed report never finished at NCMEC
        # Only a refusal, or answers lost more often than the bounded resubmission allows, fail it.
        assert "refused" in failure or "is unknown" in failure, failure
