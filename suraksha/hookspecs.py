"""Every plugin hook, one docstring each. Plugins implement them with ``@hookimpl`` and are named in
the ``plugins`` setting (installed packages exposing an entry point in the ``suraksha`` group):
nothing third-party runs unless an operator names it.

Classifier hooks must run offline from an installed package (no calls to outside services with
user content): that is a condition for shipping one enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pluggy

from suraksha.signals.file_signals import FileSignals

PROJECT = "suraksha"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class ClassifierFinding:
    """One classifier's opinion: it sends the item to review (never acts by itself)."""

    classifier: str
    version: str
    category: str
    score: float
    """0..1, the classifier's own confidence."""
    priority: int = 50
    where: str = ""
    """"media:<position>" or a text field name."""


@hookspec
def suraksha_classify_media(data: bytes, signals: FileSignals, position: int) -> list[ClassifierFinding]:  # type: ignore[empty-body]
    """Classify one media file (its bytes, already decoded once and hashed: ``signals``). Return
    findings worth a reviewer's time; an empty list says nothing (it is not "clean")."""


@hookspec
def suraksha_classify_text(fields: Mapping[str, str]) -> list[ClassifierFinding]:  # type: ignore[empty-body]
    """Classify an item's text fields (text, bio, display_name, handle)."""
