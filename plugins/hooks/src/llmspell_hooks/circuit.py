"""hooks-circuit: a circuit breaker per model provider and per tool.

One breaker per provider (model calls, keyed by the provider part of ``ctx.name`` =
``provider/model``) and one per tool, per kernel:

- **closed**: calls pass; ``failure_threshold`` consecutive failures (errors whose code is in
  ``provider_codes`` / ``tool_codes``) open it; a success resets the count;
- **open** for ``cooldown`` seconds: calls fail at once, without reaching the provider or tool
  (model calls with ``provider_error``, tools with ``tool_error``; ``details.reason`` is
  ``"circuit_open"``), so a fallback chain moves on to its next model;
- **half-open** after the cooldown: up to ``half_open_max`` trial calls pass at a time; a
  successful trial closes the breaker, a failed one opens it again for another cooldown.

Transitions emit ``circuit.opened``, ``circuit.half_open`` and ``circuit.closed`` on the run
where they happen. Time is ``trio.current_time()`` (a ``MockClock`` drives it in tests).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.config import Table
from llmspell.errors import ERROR_CODES, LlmspellError, did_you_mean
from llmspell.lifecycle import HookContext, hookimpl

if TYPE_CHECKING:
    from llmspell.config import Config
    from llmspell.kernel import Kernel

llmspell_default_enabled = False

NAME = "hooks-circuit"
KEYS = (
    "enabled", "failure_threshold", "cooldown", "half_open_max", "apply_to", "provider_codes",
    "tool_codes", "providers", "tools",
)
TARGET_KEYS = ("enabled", "failure_threshold", "cooldown", "half_open_max")
TARGETS = {"providers": "provider", "tools": "tool"}
#: before hooks: after hooks-cost (50) and hooks-cache (40), which may refuse or answer without
#: the provider, and before hooks-ratelimit (30), so that a doomed call does not wait for a slot;
#: on_error and after hooks run early, so that an outcome is recorded before another hook ends
#: the chain (a Retry or Skip in on_error, a Cancel in after)
BEFORE_PRIORITY = 35
OUTCOME_PRIORITY = 100
#: ``ctx.metadata`` key set (to ``True``) by the on_error hook while the breaker of the failed
#: operation is open: hooks-retry does not retry such a failure
OPEN_FLAG = "circuit_open"
_MARK = "_circuit"

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@attrs.frozen
class Limits:
    failure_threshold: int = 5
    cooldown: float = 30.0
    half_open_max: int = 1
    enabled: bool = True


@attrs.define
class Settings:
    default: Limits = Limits()
    apply_to: frozenset[str] = frozenset({"provider", "tool"})
    codes: dict[str, frozenset[str]] = attrs.field(
        factory=lambda: {
            "provider": frozenset({"provider_error", "timeout"}),
            "tool": frozenset({"tool_error", "timeout"}),
        }
    )
    overrides: dict[tuple[str, str], Limits] = attrs.field(factory=dict)

    def limits(self, target: str, name: str) -> Limits:
        return self.overrides.get((target, name), self.default)


@attrs.define(eq=False)
class Breaker:
    """The state of one breaker."""

    target: str  # "provider" or "tool"
    name: str
    limits: Limits
    state: str = CLOSED
    failures: int = 0
    opened_at: float = 0.0
    #: trial calls in flight while half-open: id(ctx) -> start time
    trials: dict[int, float] = attrs.field(factory=dict)

    def remaining(self, now: float) -> float:
        return max(0.0, self.opened_at + self.limits.cooldown - now)


@attrs.define
class _KernelState:
    settings: Settings
    breakers: dict[tuple[str, str], Breaker] = attrs.field(factory=dict)

    def breaker(self, target: str, name: str) -> Breaker:
        key = (target, name)
        found = self.breakers.get(key)
        if found is None:
            found = self.breakers[key] = Breaker(target, name, self.settings.limits(target, name))
        return found


_kernels: weakref.WeakKeyDictionary[Any, _KernelState] = weakref.WeakKeyDictionary()


# --- settings ---------------------------------------------------------------------------------


def _sub(table: Table, key: str) -> Table:
    value = table.data.get(key, {})
    if not isinstance(value, Mapping):
        raise table.error(key, f"must be a table, got {value!r}")
    return Table(f"{table.path}.{key}", value, table.source)


def _int(table: Table, key: str, default: int) -> int:
    value = table.get(key, int, default)
    if value < 1:
        raise table.error(key, f"must be at least 1, got {value!r}")
    return value


def _limits(table: Table, default: Limits, *, per_target: bool = False) -> Limits:
    cooldown = table.positive("cooldown", default.cooldown)
    assert cooldown is not None
    return Limits(
        _int(table, "failure_threshold", default.failure_threshold),
        cooldown,
        _int(table, "half_open_max", default.half_open_max),
        # the top-level ``enabled`` is the kernel's (whether the plugin loads)
        table.get("enabled", bool, True) if per_target else True,
    )


def _codes(table: Table, key: str, default: frozenset[str]) -> frozenset[str]:
    if key not in table:
        return default
    value = table.data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise table.error(key, f"must be a list of error codes, got {value!r}")
    for code in value:
        if code not in ERROR_CODES:
            raise table.error(
                key, f"names unknown error code {code!r}" + did_you_mean(code, ERROR_CODES)
            )
    return frozenset(value)


def parse_settings(table: Table) -> Settings:
    """The settings in ``[plugins.hooks-circuit]``; ``config_error`` naming the key when
    wrong."""
    table.check_keys(KEYS)
    out = Settings()
    out.default = _limits(table, Limits())
    apply_to = table.get("apply_to", list, ["providers", "tools"])
    for item in apply_to:
        if not isinstance(item, str) or item not in TARGETS:
            raise table.error(
                "apply_to", f"names {item!r}; use \"providers\" and/or \"tools\""
            )
    out.apply_to = frozenset(TARGETS[i] for i in apply_to)
    out.codes = {
        "provider": _codes(table, "provider_codes", out.codes["provider"]),
        "tool": _codes(table, "tool_codes", out.codes["tool"]),
    }
    for section, target in TARGETS.items():
        group = _sub(table, section)
        for name in group.keys():
            sub = _sub(group, name)
            sub.check_keys(TARGET_KEYS)
            out.overrides[(target, name)] = _limits(sub, out.default, per_target=True)
    return out


def _state(kernel: Kernel) -> _KernelState:
    found = _kernels.get(kernel)
    if found is None:
        found = _kernels[kernel] = _KernelState(parse_settings(kernel.config.plugin(NAME)))
    return found


def state(kernel: Kernel, target: str, name: str) -> str:
    """``"closed"``, ``"open"`` or ``"half_open"``: the breaker of provider or tool ``name``
    (``target`` is ``"provider"`` or ``"tool"``) on ``kernel``, as last updated (an open
    breaker turns half-open at the first call after its cooldown)."""
    found = _state(kernel).breakers.get((target, name))
    return found.state if found is not None else CLOSED


def reset(kernel: Kernel) -> None:
    """Close every breaker of ``kernel`` and forget their counts."""
    _state(kernel).breakers.clear()


@hookimpl
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    _kernels[kernel] = _KernelState(parse_settings(config.plugin(NAME)))


# --- the breaker ------------------------------------------------------------------------------


def _target(ctx: HookContext) -> tuple[_KernelState, Breaker] | None:
    if ctx.run is None:
        return None
    target = "provider" if ctx.kind == "llm_call" else "tool"
    kstate = _state(ctx.run.kernel)
    if target not in kstate.settings.apply_to:
        return None
    name = ctx.name.partition("/")[0] if target == "provider" else ctx.name
    breaker = kstate.breaker(target, name)
    if not breaker.limits.enabled:
        return None
    return kstate, breaker


def _event(breaker: Breaker, **extra: Any) -> dict[str, Any]:
    return {"target": breaker.target, "name": breaker.name, **extra}


def _fail_fast(ctx: HookContext, breaker: Breaker, now: float) -> LlmspellError:
    wait = breaker.remaining(now)
    what = "provider" if breaker.target == "provider" else "tool"
    details: dict[str, Any] = {
        "reason": "circuit_open",
        "state": breaker.state,
        "retry_after": round(wait, 3),
        what: breaker.name,
    }
    if breaker.target == "provider":
        details["model"] = ctx.name
    if breaker.state == HALF_OPEN:
        why = f"its circuit is half-open and {breaker.limits.half_open_max} trial call(s) are " \
            "in flight"
    else:
        why = f"its circuit is open after {breaker.failures} consecutive failures " \
            f"(next trial in {wait:.1f} s)"
    code = "provider_error" if breaker.target == "provider" else "tool_error"
    return LlmspellError(code, f"{what} {breaker.name!r} is unavailable: {why}", details)


def _before(ctx: HookContext) -> Awaitable[None] | None:
    found = _target(ctx)
    if found is None:
        return None
    _, breaker = found
    if breaker.state == CLOSED:
        return None
    now = trio.current_time()
    if breaker.state == OPEN:
        if now < breaker.opened_at + breaker.limits.cooldown:
            raise _fail_fast(ctx, breaker, now)
        breaker.state = HALF_OPEN
        breaker.trials.clear()
        breaker.trials[id(ctx)] = now
        ctx.metadata[_MARK] = {"trial": True}
        return _emit(ctx, "circuit.half_open", _event(breaker))
    # half-open: forget trials that never reported (cancelled) after a whole cooldown
    stale = now - breaker.limits.cooldown
    for key in [k for k, started in breaker.trials.items() if started <= stale]:
        del breaker.trials[key]
    if len(breaker.trials) >= breaker.limits.half_open_max:
        raise _fail_fast(ctx, breaker, now)
    breaker.trials[id(ctx)] = now
    ctx.metadata[_MARK] = {"trial": True}
    return None


def _open(breaker: Breaker, now: float) -> None:
    breaker.state = OPEN
    breaker.opened_at = now
    breaker.trials.clear()


async def _emit(ctx: HookContext, topic: str, data: dict[str, Any]) -> None:
    await ctx.run.emit(topic, data)


def _on_error(ctx: HookContext) -> Awaitable[None] | None:
    found = _target(ctx)
    if found is None or ctx.error is None:
        return None
    kstate, breaker = found
    mark = ctx.metadata.setdefault(_MARK, {})
    trial = mark.pop("trial", False)
    if trial:
        breaker.trials.pop(id(ctx), None)
    if ctx.error.code not in kstate.settings.codes[breaker.target]:
        return None  # says nothing about the provider's or tool's health
    mark["failed_attempt"] = ctx.attempt
    now = trio.current_time()
    breaker.failures += 1
    event: Awaitable[None] | None = None
    if breaker.state == HALF_OPEN and trial:
        _open(breaker, now)
        event = _emit(ctx, "circuit.opened", _event(
            breaker, reason="trial_failed", failures=breaker.failures,
            cooldown=breaker.limits.cooldown, error=ctx.error.to_dict()))
    elif breaker.state == CLOSED and breaker.failures >= breaker.limits.failure_threshold:
        _open(breaker, now)
        event = _emit(ctx, "circuit.opened", _event(
            breaker, reason="failure_threshold", failures=breaker.failures,
            cooldown=breaker.limits.cooldown, error=ctx.error.to_dict()))
    if breaker.state == OPEN:
        ctx.metadata[OPEN_FLAG] = True
    return event


def _after(ctx: HookContext) -> Awaitable[None] | None:
    found = _target(ctx)
    if found is None:
        return None
    _, breaker = found
    mark = ctx.metadata.get(_MARK)
    trial = False
    if mark is not None:
        trial = mark.pop("trial", False)
        if trial:
            breaker.trials.pop(id(ctx), None)
        if mark.get("failed_attempt") == ctx.attempt:
            return None  # the last attempt failed; another hook recovered with a result
    if ctx.skipped:
        return None  # answered without reaching the provider or tool
    breaker.failures = 0
    if breaker.state == HALF_OPEN:
        breaker.state = CLOSED
        breaker.trials.clear()
        return _emit(ctx, "circuit.closed", _event(breaker))
    return None


@hookimpl(priority=BEFORE_PRIORITY)
def llmspell_before_llm_call(ctx: HookContext) -> Any:
    return _before(ctx)


@hookimpl(priority=BEFORE_PRIORITY)
def llmspell_before_tool_call(ctx: HookContext) -> Any:
    return _before(ctx)


@hookimpl(priority=OUTCOME_PRIORITY)
def llmspell_after_llm_call(ctx: HookContext) -> Any:
    return _after(ctx)


@hookimpl(priority=OUTCOME_PRIORITY)
def llmspell_after_tool_call(ctx: HookContext) -> Any:
    return _after(ctx)


@hookimpl(priority=OUTCOME_PRIORITY)
def llmspell_on_error(ctx: HookContext) -> Any:
    if ctx.kind not in ("llm_call", "tool_call"):
        return None
    return _on_error(ctx)
