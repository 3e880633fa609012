"""Errors of the match indexes. Each says what was wrong, with what, and what to do next."""

from __future__ import annotations

from suraksha.errors import InvalidInput, NotReady, SurakshaError


class IndexNotReady(NotReady):
    """The index cannot answer yet (not loaded, closed, or stale). Never to be read as "no match"."""


class SnapshotError(SurakshaError):
    """An index snapshot cannot be used: missing, truncated, corrupted, or of another format."""


class SnapshotVersionError(SnapshotError):
    """The snapshot was written in a format version this code does not read."""


class InvalidHash(InvalidInput):
    """A hash or digest given to an index has the wrong length, type or encoding."""
