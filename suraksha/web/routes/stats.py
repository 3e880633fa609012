"""``GET /api/v1/stats``: every figure for a period, cut into calendar buckets (API keys of the read
role). The same figures as ``suraksha stats`` (``Platform.stats``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from suraksha.access.models import ApiScope
from suraksha.transparency.figures import Group, parse_bound
from suraksha.transparency.schemas import StatsOut
from suraksha.transparency.series import Granularity
from suraksha.web.auth import require
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.routes import API_V1
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix=f"{API_V1}/stats", tags=["statistics"], responses=PROBLEM_RESPONSES)

API_MAX_BUCKETS = 1000
"""Buckets one request may ask for (a day-by-day series of about 2.7 years)."""


@router.get("", dependencies=[require(ApiScope.READ)], response_model_by_alias=True)
def read_stats(
    start: str = Query(
        alias="from",
        min_length=10,
        max_length=40,
        description="First day (2021-01-01) or a time with offset.",
    ),
    end: str = Query(
        alias="to",
        min_length=10,
        max_length=40,
        description="Last day, included (2021-12-31), or an end time with offset, excluded.",
    ),
    by: Granularity = Query(
        Granularity.MONTH, description="The buckets: day, week, month, quarter, year, total."
    ),
    group: Group | None = Query(
        None, description="Break each bucket down by category, source, policy or country."
    ),
    state: WebState = Depends(get_state),
) -> StatsOut:
    """Items identified (by source), decisions (automated or by people), platform actions by kind,
    CyberTipline reports and files, police referrals, and time from receipt to detection, detection to
    action and detection to report (median, p90, p99 in seconds), per bucket in UTC. Zero is 0; a
    bucket without any record has ``records: false``. At most 1000 buckets per request. Beside the
    buckets, for the whole period and counted from the records (not rolled up): ``notices`` from
    trusted flaggers (received, decided, confirmed, accuracy, median time to decision; ``by_flagger``)
    and ``appeals`` (lodged, decided, upheld, reversed, median time to decide; ``reversal_rates`` by
    policy, tool, bank, rule and classifier)."""
    report = state.platform.stats(
        parse_bound(start, "from", end=False),
        parse_bound(end, "to", end=True),
        by=by,
        group=group,
        max_buckets=API_MAX_BUCKETS,
    )
    return StatsOut.model_validate(report.as_dict())
