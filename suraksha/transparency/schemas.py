"""The API's shapes of a period's figures (``GET /api/v1/stats``): ``StatsReport.as_dict`` validated."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SpreadOut(BaseModel):
    count: int = Field(description="How many durations were measured.")
    median_s: float | None = Field(description="Median in seconds (null when nothing was measured).")
    p90_s: float | None
    p99_s: float | None


class BucketOut(BaseModel):
    """Every measure of one bucket (docs/transparency.md defines each)."""

    start: str
    end: str
    records: bool = Field(description="False when no record at all falls in the bucket.")
    identified_items: int
    identified_by_source: dict[str, int]
    identified_backfilled: int
    identified_by_category: dict[str, int]
    decisions: int
    decided_automatically: int
    decided_by_people: int
    decisions_by_category: dict[str, int]
    decisions_by_policy: dict[str, int]
    actions: dict[str, int] = Field(description="Platform actions by kind: remove, suspend, withhold, ...")
    actions_automated: int
    actions_by_category: dict[str, int]
    withheld_by_country: dict[str, int]
    cybertipline_reports_finished: int
    cybertipline_files_reported: int
    referrals_drafted: int
    referrals_sent: int
    referrals_acknowledged: int
    receipt_to_detection: SpreadOut
    detection_to_action: SpreadOut
    detection_to_report: SpreadOut
    notes: list[str]


class FlaggerOut(BaseModel):
    flagger: str
    organisation: str
    notices: int = Field(description="Notices it sent that were received in the period.")
    decided: int = Field(description="Of those, settled with a reviewer's decision (not 'not found').")
    confirmed: int
    not_found: int
    accuracy: float | None = Field(description="confirmed / decided (null when none was decided).")
    median_decision_s: float | None
    status_review: bool = Field(description="Marked for a review of its status (low accuracy).")


class NoticesOut(BaseModel):
    """Notices from trusted flaggers received in the period, counted from the raw records (not rolled
    up); decided and confirmed are of those notices, as they stand now."""

    received: int
    decided: int
    confirmed: int
    not_found: int
    accuracy: float | None
    median_decision_s: float | None = Field(description="Receipt to decision, over the decided notices.")
    by_flagger: list[FlaggerOut]


class ReversalRateOut(BaseModel):
    dimension: str = Field(description="policy, tool, bank, rule or classifier.")
    key: str
    appealed: int = Field(description="Appeals decided in the period of decisions resting on it.")
    reversed: int
    rate: float
    flagged: bool = Field(description="Flagged as often wrong (as it stands now).")


class AppealsOut(BaseModel):
    """Appeals lodged in the period, and those decided in it (upheld or reversed), counted from the raw
    records (not rolled up)."""

    lodged: int
    decided: int
    upheld: int
    reversed: int
    reversal_rate: float | None
    median_decision_s: float | None = Field(description="Lodged to decided, over those decided.")
    reversal_rates: list[ReversalRateOut]


class StatsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="Start of the period (UTC, included).")
    to: str = Field(description="End of the period (UTC, excluded).")
    by: str
    group: str | None
    buckets: list[BucketOut]
    rows: list[dict[str, str | int | float | None]] | None = Field(
        description="With group: one flat row per bucket and group value (as the CLI's --csv)."
    )
    notices: NoticesOut = Field(description="Trusted flaggers' notices over the whole period.")
    appeals: AppealsOut = Field(description="Appeals over the whole period, with reversal rates.")
