"""Domain errors. Raised in the domain, turned into exit codes (CLI) or HTTP statuses (web) in one place."""

from __future__ import annotations


class SurakshaError(Exception):
    """Base of every error a person may see: the message says what was wrong and what to do."""


class NotFound(SurakshaError):
    pass


class Conflict(SurakshaError):
    pass


class InvalidInput(SurakshaError):
    pass


class TooLarge(InvalidInput):
    """Input over a size limit (web: 413)."""


class Unprocessable(InvalidInput):
    """Well-formed input that cannot be processed as asked (e.g. a picture too flat to match)."""


class NotReady(SurakshaError):
    """A lookup cannot be answered yet (index not loaded, stale). Never to be read as "no match"."""


class Unauthenticated(SurakshaError):
    """No credentials, or credentials that are not valid (unknown, malformed or revoked)."""


class Forbidden(SurakshaError):
    """Authenticated, but not allowed to do this."""


class ConfigError(SurakshaError):
    pass


class ExternalServiceError(SurakshaError):
    """A system outside ours (a media host, the host platform, a clearinghouse) failed or timed out."""
