"""The plugin manager: our hookspecs, the built-in plugins (none are classifiers), and the installed
plugins an operator names in the ``plugins`` setting (entry points in the ``suraksha`` group)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points

import pluggy

from suraksha import hookspecs
from suraksha.errors import ConfigError
from suraksha.hookspecs import ClassifierFinding
from suraksha.signals.file_signals import FileSignals

DEFAULT_PLUGINS: tuple[object, ...] = ()
"""Built-in behaviour implemented through the hooks. No classifier ships enabled."""


def plugin_manager(names: Sequence[str] = (), *, extra: Sequence[object] = ()) -> pluggy.PluginManager:
    """A manager with the default plugins, the named installed ones, and ``extra`` (tests)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for plugin in (*DEFAULT_PLUGINS, *extra):
        manager.register(plugin)
    available = {ep.name: ep for ep in entry_points(group=hookspecs.PROJECT)}
    for name in names:
        if name not in available:
            known = ", ".join(sorted(available)) or "none are installed"
            raise ConfigError(f"plugin {name!r} is not installed (entry points in group 'suraksha': {known})")
        manager.register(available[name].load(), name=name)
    return manager


class Classifiers:
    """The classifier hooks as the pipeline calls them."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager

    @property
    def any(self) -> bool:
        return bool(
            self.manager.hook.suraksha_classify_media.get_hookimpls()
            or self.manager.hook.suraksha_classify_text.get_hookimpls()
        )

    def media(self, data: bytes, signals: FileSignals, position: int) -> list[ClassifierFinding]:
        results = self.manager.hook.suraksha_classify_media(data=data, signals=signals, position=position)
        return [finding for found in results for finding in found]

    def text(self, fields: Mapping[str, str]) -> list[ClassifierFinding]:
        results = self.manager.hook.suraksha_classify_text(fields=fields)
        return [finding for found in results for finding in found]
