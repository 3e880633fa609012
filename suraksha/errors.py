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


class NotReady(SurakshaError):
    """A lookup cannot be answered yet (index not loaded, stale). Never to be read as "no match"."""


class Forbidden(SurakshaError):
    pass


class ConfigError(SurakshaError):
    pass
