"""The DSA Transparency Database's statement API as documented
(https://transparency.dsa.ec.europa.eu/page/api-documentation): the fields of a statement of reasons,
their allowed values, which are required, and the errors it answers; and ``TransparencyDatabase``, a
local stand-in that validates and stores statements the way the API does (no network, no framework:
``suraksha.web.dsa_sim`` serves it over HTTP).

What the API does, and the stand-in with it:
- ``POST /api/v1/statement`` with ``Authorization: Bearer TOKEN`` and a JSON statement: ``201`` and the
  statement as stored, with its ``uuid``, ``created_at``, ``permalink`` and ``self``.
- A wrong or missing token: ``401`` ``{"message": "Unauthenticated."}``.
- An invalid statement: ``422`` ``{"message": "...", "errors": {"field": ["..."]}}``.
- A ``puid`` the platform already used: ``422`` with ``errors.puid`` "The identifier given is not unique
  within this platform." and ``existing``, the statement stored under it.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

PUID_NOT_UNIQUE = "The identifier given is not unique within this platform."

DECISION_VISIBILITY = (
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_MONETARY = (
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
)
DECISION_PROVISION = (
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
)
DECISION_ACCOUNT = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPE = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
DECISION_GROUND = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
CONTENT_TYPE = (
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
)
CATEGORY = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
)
KEYWORDS = (
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION",
    "KEYWORD_STALKING",
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
    "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_OTHER",
)
"""The category specifications Suraksha's categories map to (the API accepts more)."""
SOURCE_TYPE = (
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
)
YES_NO = ("Yes", "No")
AUTOMATED_DECISION = (
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
)
TERRITORIAL_SCOPE: tuple[str, ...] = tuple(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK".split()  # noqa: SIM905 - one line to compare
)

_LIMITS = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
    "decision_ground_reference_url": 500,
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PUID = re.compile(r"[A-Za-z0-9_.:\-]+")


def _label(field: str) -> str:
    return field.replace("_", " ")


def validate(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """The API's checks of one statement: ``{field: [messages]}``, empty when it is valid."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def text(field: str, *, required: bool = False) -> None:
        value = statement.get(field)
        if value in (None, ""):
            if required:
                error(field, f"The {_label(field)} field is required.")
            return
        if not isinstance(value, str):
            error(field, f"The {_label(field)} field must be a string.")
        elif len(value) > _LIMITS.get(field, 500):
            error(field, f"The {_label(field)} field must not be greater than {_LIMITS[field]} characters.")

    def one_of(field: str, allowed: tuple[str, ...], *, required: bool = False) -> None:
        value = statement.get(field)
        if value is None:
            if required:
                error(field, f"The {_label(field)} field is required.")
        elif value not in allowed:
            error(field, f"The selected {_label(field)} is invalid.")

    def many_of(field: str, allowed: tuple[str, ...], *, required: bool = False) -> None:
        value = statement.get(field)
        if value is None or value == []:
            if required:
                error(field, f"The {_label(field)} field is required.")
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            error(field, f"The {_label(field)} must be an array.")
        elif any(v not in allowed for v in value):
            error(field, f"The selected {_label(field)} is invalid.")

    def day(field: str, *, required: bool = False) -> date | None:
        value = statement.get(field)
        if value in (None, ""):
            if required:
                error(field, f"The {_label(field)} field is required.")
            return None
        try:
            if not isinstance(value, str) or not _DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            error(field, f"The {_label(field)} field must match the format Y-m-d.")
            return None

    restrictions = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if all(statement.get(f) in (None, "", []) for f in restrictions):
        for field in restrictions:
            others = ", ".join(_label(f) for f in restrictions if f != field)
            error(field, f"The {_label(field)} field is required when none of {others} are present.")
    many_of("decision_visibility", DECISION_VISIBILITY)
    one_of("decision_monetary", DECISION_MONETARY)
    one_of("decision_provision", DECISION_PROVISION)
    one_of("decision_account", DECISION_ACCOUNT)
    one_of("account_type", ACCOUNT_TYPE)
    if "DECISION_VISIBILITY_OTHER" in (statement.get("decision_visibility") or []):
        text("decision_visibility_other", required=True)
    if statement.get("decision_monetary") == "DECISION_MONETARY_OTHER":
        text("decision_monetary_other", required=True)
    one_of("decision_ground", DECISION_GROUND, required=True)
    if statement.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        text("illegal_content_legal_ground", required=True)
        text("illegal_content_explanation", required=True)
    if statement.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        text("incompatible_content_ground", required=True)
        text("incompatible_content_explanation", required=True)
        one_of("incompatible_content_illegal", YES_NO)
    text("decision_ground_reference_url")
    many_of("content_type", CONTENT_TYPE, required=True)
    if "CONTENT_TYPE_OTHER" in (statement.get("content_type") or []):
        text("content_type_other", required=True)
    one_of("category", CATEGORY, required=True)
    many_of("category_addition", CATEGORY)
    many_of("category_specification", KEYWORDS)
    many_of("territorial_scope", TERRITORIAL_SCOPE)
    content = day("content_date", required=True)
    applied = day("application_date", required=True)
    if content is not None and content < date(2000, 1, 1):
        error("content_date", "The content date field must be a date after or equal to 2000-01-01.")
    if applied is not None and applied < date(2020, 1, 1):
        error("application_date", "The application date field must be a date after or equal to 2020-01-01.")
    if content is not None and applied is not None and applied < content:
        error("application_date", "The application date field must be a date after or equal to content date.")
    text("decision_facts", required=True)
    one_of("source_type", SOURCE_TYPE, required=True)
    text("source_identity")
    one_of("automated_detection", YES_NO, required=True)
    one_of("automated_decision", AUTOMATED_DECISION, required=True)
    text("puid", required=True)
    puid = statement.get("puid")
    if isinstance(puid, str) and puid and not _PUID.fullmatch(puid):
        error("puid", "The puid field format is invalid.")
    return errors


def summary(errors: Mapping[str, list[str]]) -> str:
    """Laravel's message: the first error, and how many more."""
    messages = [m for field in errors.values() for m in field]
    if not messages:
        return ""
    more = len(messages) - 1
    return messages[0] + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")


class TransparencyDatabase:
    """A local stand-in for the Transparency Database's statement API, for development and tests: it
    checks the token, validates like the API, keeps puids unique per platform and answers in the API's
    shapes. It never reaches the Commission. Thread-safe."""

    def __init__(self, token: str, *, platform_name: str = "Suraksha stand-in", base_url: str = "") -> None:
        if not token:
            raise ValueError("the stand-in needs a token, like the real API")
        self._token = token
        self.platform_name = platform_name
        self.base_url = base_url.rstrip("/")
        self._lock = threading.Lock()
        self._by_puid: dict[str, dict[str, Any]] = {}
        self.fail_next: list[int] = []
        """Status codes the next calls answer instead (500, 503, 429): tests' and demos' faults."""
        self.lose_next = 0
        """Calls that store the statement and then lose the answer (a 502 after storing)."""

    def check_token(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and value.strip() == self._token

    def create(self, authorization: str, statement: object) -> tuple[int, dict[str, Any]]:
        """One ``POST /api/v1/statement``: (status, JSON body)."""
        if not self.check_token(authorization):
            return 401, {"message": "Unauthenticated."}
        with self._lock:
            if self.fail_next:
                return self.fail_next.pop(0), {"message": "Server Error"}
            if not isinstance(statement, dict):
                return 422, {"message": "The given data was invalid.", "errors": {"body": ["A JSON object."]}}
            errors = validate(statement)
            if errors:
                return 422, {"message": summary(errors), "errors": errors}
            puid = statement["puid"]
            if puid in self._by_puid:
                return 422, {
                    "message": PUID_NOT_UNIQUE,
                    "errors": {"puid": [PUID_NOT_UNIQUE]},
                    "existing": self._by_puid[puid],
                }
            stored = dict(statement)
            statement_id = str(uuid.uuid4())
            stored.update(
                uuid=statement_id,
                platform_name=self.platform_name,
                created_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                permalink=f"{self.base_url}/statement/{statement_id}",
                self=f"{self.base_url}/api/v1/statement/{statement_id}",
            )
            self._by_puid[puid] = stored
            if self.lose_next:
                self.lose_next -= 1
                return 502, {"message": "Bad Gateway"}
            return 201, stored

    def statements(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_puid.values())
