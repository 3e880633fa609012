"""The notice API's shapes: what a flagger sends (``NoticeIn``) and reads back (``NoticeOut``).
Unknown fields are refused and every string and list is bounded, so bad input is a 422, never a 500."""

from __future__ import annotations

import binascii
from datetime import datetime
from enum import StrEnum

import pybase64
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

MAX_TARGETS = 50
MAX_EXPLANATION = 8000
MAX_UPLOAD_B64 = 14 * 1024 * 1024
"""About 10 MiB of file: a flagger's copy of a picture or a short clip (the body limit applies too)."""


class NoticeCategory(StrEnum):
    """What the flagger says the content is (the review categories, less ``benign``)."""

    CSAM = "csam"
    INTIMATE_IMAGERY = "intimate_imagery"
    SEXUAL_VIOLENCE = "sexual_violence"
    SALE_OR_SOLICITATION = "sale_or_solicitation"


BASE64 = r"^(?:[A-Za-z0-9+/]{4})+$|^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TargetIn(_Strict):
    """One thing the notice names: exactly one of ``url`` (a post URL of the platform's),
    ``platform_id`` (the platform's id of the post) or ``upload`` (base64 of a file the flagger holds;
    only its hashes are kept)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        # What the validator below enforces, said in the OpenAPI document too.
        json_schema_extra={
            "oneOf": [{"required": ["url"]}, {"required": ["platform_id"]}, {"required": ["upload"]}]
        },
    )

    url: AnyHttpUrl | None = Field(default=None, max_length=2000)
    platform_id: str | None = Field(default=None, min_length=1, max_length=200)
    upload: str | None = Field(
        default=None,
        min_length=4,
        max_length=MAX_UPLOAD_B64,
        pattern=BASE64,
        description="Base64 of the file.",
    )

    _bytes: bytes | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_thing(self) -> TargetIn:
        given = [v for v in (self.url, self.platform_id, self.upload) if v is not None]
        if len(given) != 1:
            raise ValueError("name each thing by exactly one of 'url', 'platform_id' or 'upload'")
        if self.upload is not None:
            try:
                self._bytes = pybase64.b64decode(self.upload, validate=True)
            except binascii.Error as exc:
                raise ValueError(f"'upload' is not valid base64 ({exc})") from exc
            if not self._bytes:
                raise ValueError("'upload' is empty")
        return self

    def uploaded(self) -> bytes | None:
        return self._bytes


class NoticeIn(_Strict):
    reference: str = Field(
        min_length=1,
        max_length=200,
        description="Your own reference for the notice: sending the same reference again is safe "
        "(the notice already received is answered).",
    )
    category: NoticeCategory
    explanation: str = Field(
        min_length=1,
        max_length=MAX_EXPLANATION,
        description="Why the content is illegal or against the terms (DSA Art. 16(2)(a)).",
    )
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_TARGETS)
    depicted_person_complaint: bool = Field(
        default=False,
        description="The notice relays a complaint by the person shown in intimate imagery "
        "(IT Rules r.3(2)(b)): its shorter clocks apply. Only with category intimate_imagery.",
    )

    @model_validator(mode="after")
    def _complaint_category(self) -> NoticeIn:
        if self.depicted_person_complaint and self.category != NoticeCategory.INTIMATE_IMAGERY:
            raise ValueError("depicted_person_complaint goes with category intimate_imagery only")
        return self


class ClockOut(BaseModel):
    step: str
    due_at: datetime
    state: str
    remaining_s: int
    source: str


class TargetOut(BaseModel):
    position: int
    kind: str
    value: str
    state: str = Field(description="fetching, in_review, decided or not_found.")
    detail: str
    joined_existing_case: bool = Field(
        description="Another notice or a detection had already put it in review."
    )
    violation: str | None = Field(description="What the reviewer found; 'benign': no violation.")
    actions: list[str]
    decided_at: datetime | None


class NoticeOut(BaseModel):
    id: int
    reference: str
    category: str
    state: str = Field(description="received, in_review or decided.")
    outcome: str | None = Field(description="confirmed, not_confirmed or not_found, once decided.")
    jurisdiction: str
    received_at: datetime
    acknowledged_at: datetime
    decided_at: datetime | None
    clocks: list[ClockOut]
    targets: list[TargetOut]
