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
