"""The kernel: the plugin manager and the registries its plugins fill."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

from llmspell.config import Config
from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookDispatcher
from llmspell.plugins import PluginFailure, PluginInfo, PluginLoader, new_plugin_manager
from llmspell.providers import ProviderRegistry
from llmspell.registry import Registry
from llmspell.tools import ToolRegistry

#: registration hook -> attribute of the kernel holding its registry
REGISTRATION_HOOKS = {
    "llmspell_register_tools": "tools",
    "llmspell_register_agents": "agents",
    "llmspell_register_providers": "providers",
    "llmspell_register_engines": "engines",
    "llmspell_register_workflows": "workflows",
}
#: called after the registration hooks, with what the plugin asks for of ``config``/``kernel``
CONFIGURE_HOOK = "llmspell_configure"


class Kernel:
    """One process's view of llmspell: loaded plugins, registries and the plugin hook dispatcher.

    Build it with :meth:`load` (entry points plus any extra plugin objects). Registries are filled
    by calling each plugin's registration hooks one plugin at a time, so every component knows its
    owner; a registration hook that raises is recorded in :attr:`failures`, its plugin withdrawn,
    and the kernel goes on — except for a ``config_error`` (a malformed setting of the user's
    llmspell.toml), which is raised so that the user sees it.
    """

    def __init__(
        self, pm: pluggy.PluginManager | None = None, config: Config | None = None
    ) -> None:
        self.pm = pm or new_plugin_manager()
        self.config = config if config is not None else Config()
        self.loader = PluginLoader(self.pm)
        self.tools = ToolRegistry()
        self.agents: Registry[Any] = Registry("agent type")
        self.providers = ProviderRegistry()
        self.engines: Registry[Any] = Registry("engine")
        self.workflows: Registry[Any] = Registry("workflow kind")
        self.hooks = HookDispatcher(self.pm)

    @classmethod
    def load(
        cls,
        *,
        entry_points: bool = True,
        plugins: Iterable[tuple[str, object]] = (),
        env: Mapping[str, str] | None = None,
        config: Config | None = None,
        enable: Iterable[str] = (),
        disable: Iterable[str] = (),
    ) -> Kernel:
        """A kernel with the entry-point plugins (filtered by ``LLMSPELL_LOAD_PLUGINS`` and
        ``LLMSPELL_DISABLE_PLUGINS`` from ``env``, default ``os.environ``) and ``plugins``
        (``(name, plugin)`` pairs) registered and their components in the registries.
        ``config`` is what registration hooks that ask for it receive; by default the
        ``llmspell.toml`` files (:meth:`Config.load`) when entry points are loaded, else empty.

        A plugin module may declare ``llmspell_default_enabled = False`` (optional features,
        such as response caching): it is loaded only when enabled. ``enable``/``disable`` name
        entry points to load or skip; they override ``enabled = true|false`` in the plugin's
        ``[plugins.NAME]`` table, which overrides the plugin's default."""
        if config is None:
            config = Config.load(env=env) if entry_points else Config()
        kernel = cls(config=config)
        if entry_points:
            enabled, disabled = set(enable), set(disable)
            for name, table in config.plugins.items():
                if "enabled" in table:
                    wanted = table.get("enabled", bool, True)
                    if name not in enabled | disabled:
                        (enabled if wanted else disabled).add(name)
            kernel.loader.load_entry_points(
                os.environ if env is None else env, enable=enabled, disable=disabled
            )
        for name, plugin in plugins:
            kernel.loader.register(plugin, name)
        for name in list(kernel.loader.loaded):
            kernel._register_components(name)
        kernel.hooks.invalidate()
        return kernel

    @property
    def plugins(self) -> dict[str, PluginInfo]:
        return self.loader.loaded

    @property
    def failures(self) -> list[PluginFailure]:
        return self.loader.failures

    def register_plugin(self, plugin: object, name: str) -> PluginInfo | None:
        """Register one more plugin object now and add its components; ``None`` (and an entry
        in :attr:`failures`) if it could not be registered."""
        info = self.loader.register(plugin, name)
        if info is not None:
            self._register_components(name)
            self.hooks.invalidate()
        return self.loader.loaded.get(name)

    def check_pending(self) -> None:
        """Raise ``pluggy.PluginValidationError`` for hook implementations without a spec."""
        self.pm.check_pending()

    def components(self, plugin_name: str) -> dict[str, list[str]]:
        """What ``plugin_name`` registered, by registry."""
        out = {}
        for attr in REGISTRATION_HOOKS.values():
            names = getattr(self, attr).owned_by(plugin_name)
            if names:
                out[attr] = names
        return out

    def _register_components(self, plugin_name: str) -> None:
        plugin = self.pm.get_plugin(plugin_name)
        info = self.loader.loaded[plugin_name]
        for hook_name, attr in REGISTRATION_HOOKS.items():
            registry = getattr(self, attr)
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                registry.current_owner = plugin_name
                try:
                    available = {"registry": registry, "config": self.config}
                    outcome = impl.function(**{a: available[a] for a in impl.argnames})
                    if inspect.isawaitable(outcome):
                        close = getattr(outcome, "close", None)
                        if close is not None:
                            close()
                        raise TypeError("registration hooks must be plain (not async) functions")
                except Exception as exc:
                    self.loader.failures.append(
                        PluginFailure(
                            plugin_name,
                            info.package,
                            info.version,
                            f"{hook_name} failed: {type(exc).__name__}: {exc}",
                        )
                    )
                    registry.current_owner = "api"
                    self._withdraw(plugin_name, plugin)
                    if isinstance(exc, LlmspellError) and exc.code == "config_error":
                        raise  # the user's llmspell.toml is wrong: say so, naming the key
                    return
                finally:
                    registry.current_owner = "api"
        for impl in getattr(self.pm.hook, CONFIGURE_HOOK).get_hookimpls():
            if impl.plugin is not plugin:
                continue
            try:
                available = {"config": self.config, "kernel": self}
                impl.function(**{a: available[a] for a in impl.argnames})
            except Exception as exc:
                self.loader.failures.append(
                    PluginFailure(plugin_name, info.package, info.version,
                                  f"{CONFIGURE_HOOK} failed: {type(exc).__name__}: {exc}")
                )
                self._withdraw(plugin_name, plugin)
                if isinstance(exc, LlmspellError) and exc.code == "config_error":
                    raise
                return

    def _withdraw(self, plugin_name: str, plugin: object) -> None:
        """Undo a plugin whose registration failed: its components, hooks and loaded entry."""
        for attr in REGISTRATION_HOOKS.values():
            registry = getattr(self, attr)
            for name in registry.owned_by(plugin_name):
                registry.remove(name)
        self.pm.unregister(plugin)
        del self.loader.loaded[plugin_name]
        self.hooks.invalidate()
