"""hooks-retry: retry failed tool calls with exponential backoff and full jitter.

An ``on_error`` hook for operations of kind ``tool_call``: when a tool fails with a retryable
code it answers ``Retry(reason, delay)`` and emits ``tool.retrying``; the dispatcher runs the
tool again after ``delay`` seconds. Retries stay within both this plugin's ``attempts`` and the
run policy's ``max_hook_retries`` (the dispatcher's bound, counted by ``ctx.attempt``).

Settings (``[plugins.hooks-retry]``, see docs/hook-retry.md): ``attempts``, ``codes``,
``backoff = {base, max, multiplier, jitter}``, ``allow``, ``deny``, ``destructive`` and per-tool
overrides ``[plugins.hooks-retry.tools.NAME]`` (``attempts``, ``codes``, ``backoff``).

Tools that need approval (``requires_approval``, or named in the policy's ``approve_tools``) or
that the settings list as ``destructive`` are never retried unless listed explicitly: by exact
name in ``allow`` or with a ``[plugins.hooks-retry.tools.NAME]`` table.
"""

from __future__ import annotations

import fnmatch
import random
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.config import Table
from llmspell.errors import ERROR_CODES, did_you_mean
from llmspell.lifecycle import HookContext, Retry, hookimpl

if TYPE_CHECKING:
    from llmspell.config import Config
    from llmspell.kernel import Kernel

llmspell_default_enabled = False

NAME = "hooks-retry"
DEFAULT_CODES = ("tool_error", "timeout")
KEYS = ("enabled", "attempts", "codes", "backoff", "allow", "deny", "destructive", "tools")
TOOL_KEYS = ("attempts", "codes", "backoff")
BACKOFF_KEYS = ("base", "max", "multiplier", "jitter")
#: on_error order: a Retry ends the chain, so this hook comes after those that record failures
#: (hooks-circuit, 100) and those of the default priority 0 that may recover with a result
PRIORITY = -10


@attrs.frozen
class Backoff:
    """Exponential backoff: attempt ``n`` (0 for the first failure) waits up to
    ``min(max, base * multiplier ** n)`` seconds; with ``jitter`` (full jitter) a uniformly
    random time between 0 and that ceiling."""

    base: float = 0.1
    max: float = 5.0
    multiplier: float = 2.0
    jitter: bool = True

    def delay(self, failed: int, rng: random.Random) -> float:
        try:
            ceiling = min(self.max, self.base * self.multiplier**failed)
        except OverflowError:
            ceiling = self.max
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling


@attrs.frozen
class Policy:
    """How one tool is retried: total ``attempts`` (the first included), retryable ``codes``."""

    attempts: int = 3
    codes: frozenset[str] = frozenset(DEFAULT_CODES)
    backoff: Backoff = Backoff()


@attrs.define
class Settings:
    """The plugin's settings for one kernel, and its random source."""

    default: Policy = Policy()
    tools: dict[str, Policy] = attrs.field(factory=dict)
    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()
    destructive: tuple[str, ...] = ()
    rng: random.Random = attrs.field(factory=random.Random)

    def policy_for(self, name: str, destructive: bool) -> Policy | None:
        """The policy of tool ``name``, or ``None`` when it must not be retried."""
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.deny):
            return None
        listed = name in self.tools or (self.allow is not None and name in self.allow)
        if self.allow is not None and not (
            name in self.tools or any(fnmatch.fnmatchcase(name, p) for p in self.allow)
        ):
            return None
        if (destructive or name in self.destructive) and not listed:
            return None
        return self.tools.get(name, self.default)


_settings: weakref.WeakKeyDictionary[Any, Settings] = weakref.WeakKeyDictionary()


# --- settings ---------------------------------------------------------------------------------


def _sub(table: Table, key: str) -> Table:
    value = table.data.get(key, {})
    if not isinstance(value, Mapping):
        raise table.error(key, f"must be a table, got {value!r}")
    return Table(f"{table.path}.{key}", value, table.source)


def _names(table: Table, key: str) -> tuple[str, ...] | None:
    if key not in table:
        return None
    value = table.data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise table.error(key, f"must be a list of tool names, got {value!r}")
    return tuple(value)


def _codes(table: Table, key: str, default: frozenset[str]) -> frozenset[str]:
    if key not in table:
        return default
    value = table.data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise table.error(key, f"must be a list of error codes, got {value!r}")
    for code in value:
        if code not in ERROR_CODES:
            raise table.error(key, f"names unknown error code {code!r}" + did_you_mean(
                code, ERROR_CODES))
    return frozenset(value)


def _attempts(table: Table, default: int) -> int:
    value = table.get("attempts", int, default)
    if value < 1:
        raise table.error("attempts", f"must be at least 1 (the first call), got {value!r}")
    return value


def _backoff(table: Table, default: Backoff) -> Backoff:
    if "backoff" not in table:
        return default
    sub = _sub(table, "backoff")
    sub.check_keys(BACKOFF_KEYS)
    base = sub.get("base", float, default.base)
    if base < 0:
        raise sub.error("base", f"must not be negative, got {base!r}")
    high = sub.get("max", float, max(default.max, base))
    if high < base:
        raise sub.error("max", f"must be at least base ({base!r}), got {high!r}")
    multiplier = sub.get("multiplier", float, default.multiplier)
    if multiplier < 1:
        raise sub.error("multiplier", f"must be at least 1, got {multiplier!r}")
    return Backoff(base, high, multiplier, sub.get("jitter", bool, default.jitter))


def _policy(table: Table, default: Policy) -> Policy:
    return Policy(
        _attempts(table, default.attempts),
        _codes(table, "codes", default.codes),
        _backoff(table, default.backoff),
    )


def parse_settings(table: Table) -> Settings:
    """The settings in ``[plugins.hooks-retry]``; ``config_error`` naming the key when wrong."""
    table.check_keys(KEYS)
    default = _policy(table, Policy())
    tools: dict[str, Policy] = {}
    per_tool = _sub(table, "tools")
    for name in per_tool.keys():
        sub = _sub(per_tool, name)
        sub.check_keys(TOOL_KEYS)
        tools[name] = _policy(sub, default)
    return Settings(
        default=default,
        tools=tools,
        allow=_names(table, "allow"),
        deny=_names(table, "deny") or (),
        destructive=_names(table, "destructive") or (),
    )


def settings(kernel: Kernel) -> Settings:
    """This kernel's settings (read from its config when the plugin was not configured)."""
    found = _settings.get(kernel)
    if found is None:
        found = _settings[kernel] = parse_settings(kernel.config.plugin(NAME))
    return found


def use_random(kernel: Kernel, rng: random.Random) -> None:
    """Draw this kernel's jitter from ``rng`` (a seeded ``random.Random`` makes delays
    reproducible)."""
    settings(kernel).rng = rng


# --- hooks ------------------------------------------------------------------------------------


@hookimpl
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    _settings[kernel] = parse_settings(config.plugin(NAME))


def _destructive(ctx: HookContext) -> bool:
    run = ctx.run
    name = ctx.name
    if name in run.policy.approve_tools:
        return True
    tool = run.local_tools.get(name)
    if tool is None and name in run.kernel.tools:
        tool = run.kernel.tools.get(name)
    return bool(getattr(tool, "requires_approval", False))


def _retry(ctx: HookContext) -> tuple[Policy, Settings] | None:
    """The policy under which ``ctx``'s failure is retried, or ``None``."""
    error = ctx.error
    if error is None or ctx.metadata.get("circuit_open"):
        return None
    if error.details.get("reason") == "circuit_open":
        return None
    conf = settings(ctx.run.kernel)
    policy = conf.policy_for(ctx.name, _destructive(ctx))
    if policy is None or error.code not in policy.codes:
        return None
    if ctx.attempt + 1 >= policy.attempts:
        return None
    if ctx.attempt >= getattr(ctx.run.hooks, "max_retries", 0):
        return None  # the dispatcher would not retry: no event that promises one
    return policy, conf


@hookimpl(priority=PRIORITY)
def llmspell_on_error(ctx: HookContext) -> Any:
    if ctx.kind != "tool_call" or ctx.run is None:
        return None
    found = _retry(ctx)
    if found is None:
        return None
    policy, conf = found
    return _announce(ctx, policy, conf)


async def _announce(ctx: HookContext, policy: Policy, conf: Settings) -> Retry:
    error = ctx.error
    assert error is not None
    delay = policy.backoff.delay(ctx.attempt, conf.rng)
    limit = min(policy.attempts, getattr(ctx.run.hooks, "max_retries", 0) + 1)
    await ctx.run.emit(
        "tool.retrying",
        {
            "tool": ctx.name,
            "attempt": ctx.attempt + 1,
            "attempts": limit,
            "delay": delay,
            "error": error.to_dict(),
        },
    )
    return Retry(f"{error.code}: {error.message}", delay)
