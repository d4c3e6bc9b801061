"""Loading plugins: entry points of group ``llmspell``, filtered by environment variables.

``LLMSPELL_LOAD_PLUGINS``: when set, a comma-separated allowlist of entry-point names to load
(set but empty: load none). ``LLMSPELL_DISABLE_PLUGINS``: comma-separated names never to load.
A plugin that fails to import, or that implements a hook that does not exist, is recorded as a
:class:`PluginFailure` and left out; it never takes the caller down.
"""

from __future__ import annotations

import difflib
import importlib.metadata
from collections.abc import Mapping
from typing import Any

import attrs
import pluggy

from llmspell import hookspecs
from llmspell.hookspecs import PROJECT

ENTRY_POINT_GROUP = "llmspell"
LOAD_ENV = "LLMSPELL_LOAD_PLUGINS"
DISABLE_ENV = "LLMSPELL_DISABLE_PLUGINS"


@attrs.define(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, the distribution that provides it and the hooks it implements."""

    name: str
    package: str
    version: str
    hooks: tuple[str, ...]


@attrs.define(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    name: str
    package: str
    version: str
    error: str


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


def new_plugin_manager() -> pluggy.PluginManager:
    """A pluggy manager that knows every llmspell hookspec."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Messages for hook implementations of ``plugin`` that match no hookspec."""
    problems = []
    specs = [
        n for n in dir(pm.hook)
        if n.startswith("llmspell_") and getattr(pm.hook, n).spec is not None
    ]
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is None:
            close = difflib.get_close_matches(caller.name, specs, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"implements unknown hook {caller.name!r}{hint}")
    return problems


class PluginLoader:
    """Registers plugins into a pluggy manager and remembers what loaded and what failed."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.loaded: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []

    def register(
        self, plugin: object, name: str, *, package: str = "", version: str = ""
    ) -> PluginInfo | None:
        """Register ``plugin`` under ``name``; on a validation error record a failure instead."""
        try:
            self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.failures.append(PluginFailure(name, package, version, str(exc)))
            return None
        problems = unknown_hooks(self.pm, plugin)
        if problems:
            self.pm.unregister(plugin)
            self.failures.append(PluginFailure(name, package, version, "; ".join(problems)))
            return None
        hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or []))
        info = PluginInfo(name, package, version, hooks)
        self.loaded[name] = info
        return info

    def load_entry_points(self, env: Mapping[str, str]) -> None:
        """Load every entry point of group ``llmspell`` that the environment filters admit."""
        allow = _names(env.get(LOAD_ENV))
        deny = _names(env.get(DISABLE_ENV)) or set()
        seen: set[str] = set()
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in seen:
                continue
            seen.add(ep.name)
            if (allow is not None and ep.name not in allow) or ep.name in deny:
                continue
            dist = ep.dist
            package = dist.name if dist is not None else ""
            version = dist.version if dist is not None else ""
            try:
                plugin: Any = ep.load()
            except Exception as exc:
                self.failures.append(
                    PluginFailure(
                        ep.name, package, version, f"import failed: {type(exc).__name__}: {exc}"
                    )
                )
                continue
            self.register(plugin, ep.name, package=package, version=version)
