"""Lifecycle hook dispatch: the actions a hook can take and the chain that applies them.

A :class:`HookDispatcher` merges two sources of hook implementations for each point: the
plugins' ``llmspell_<point>`` implementations (pluggy) and hooks registered at run time with
:meth:`HookDispatcher.register` (script hooks, Python callables). They run in one order:

1. higher ``priority`` first (default ``0``);
2. at equal priority, plugin implementations before run-time hooks;
3. among plugin implementations, pluggy's own order (``tryfirst``, normal, ``trylast``; later
   registered first); among run-time hooks, registration order.

:meth:`HookDispatcher.guard` wraps one operation in its ``before``/``after``/``on_error`` points.
"""

from __future__ import annotations

import inspect
import itertools
import time
import weakref
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, cast

import attrs
import pluggy
import trio

from llmspell.errors import LlmspellError
from llmspell.hookspecs import PROJECT

_pluggy_hookimpl = pluggy.HookimplMarker(PROJECT)

#: Attribute carrying the priority of a plugin hook implementation.
PRIORITY_ATTR = "llmspell_priority"


def hookimpl(
    function: Callable[..., Any] | None = None,
    *,
    priority: int = 0,
    tryfirst: bool = False,
    trylast: bool = False,
    optionalhook: bool = False,
) -> Any:
    """Mark a function as an implementation of an llmspell hook (its name says which).

    ``priority`` orders lifecycle hooks (higher first); ``tryfirst``/``trylast`` break ties as
    in pluggy. Usable bare (``@hookimpl``) or with arguments (``@hookimpl(priority=10)``).
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, PRIORITY_ATTR, priority)
        marked: Callable[..., Any] = _pluggy_hookimpl(
            fn, tryfirst=tryfirst, trylast=trylast, optionalhook=optionalhook
        )
        return marked

    return mark(function) if function is not None else mark


class HookPoint(StrEnum):
    """The lifecycle points; the plugin hook for point ``p`` is ``llmspell_<p>``."""

    BEFORE_AGENT = "before_agent"
    AFTER_AGENT = "after_agent"
    BEFORE_LLM_CALL = "before_llm_call"
    AFTER_LLM_CALL = "after_llm_call"
    BEFORE_TOOL_CALL = "before_tool_call"
    AFTER_TOOL_CALL = "after_tool_call"
    BEFORE_WORKFLOW = "before_workflow"
    AFTER_WORKFLOW = "after_workflow"
    BEFORE_WORKFLOW_STEP = "before_workflow_step"
    AFTER_WORKFLOW_STEP = "after_workflow_step"
    BEFORE_STATE_WRITE = "before_state_write"
    AFTER_STATE_WRITE = "after_state_write"
    BEFORE_EVENT_EMIT = "before_event_emit"
    AFTER_EVENT_EMIT = "after_event_emit"
    SPELL_START = "spell_start"
    SPELL_END = "spell_end"
    ON_ERROR = "on_error"

    @property
    def hook_name(self) -> str:
        return f"llmspell_{self.value}"

    @classmethod
    def parse(cls, name: str) -> HookPoint:
        """``"before_tool_call"`` (or ``"llmspell_before_tool_call"``) to its point."""
        key = name.removeprefix("llmspell_")
        try:
            return cls(key)
        except ValueError:
            from llmspell.errors import not_found

            raise not_found("hook point", name, [p.value for p in cls]) from None


#: Operation kinds and their before/after points.
OPERATIONS: dict[str, tuple[HookPoint, HookPoint]] = {
    "agent": (HookPoint.BEFORE_AGENT, HookPoint.AFTER_AGENT),
    "llm_call": (HookPoint.BEFORE_LLM_CALL, HookPoint.AFTER_LLM_CALL),
    "tool_call": (HookPoint.BEFORE_TOOL_CALL, HookPoint.AFTER_TOOL_CALL),
    "workflow": (HookPoint.BEFORE_WORKFLOW, HookPoint.AFTER_WORKFLOW),
    "workflow_step": (HookPoint.BEFORE_WORKFLOW_STEP, HookPoint.AFTER_WORKFLOW_STEP),
    "state_write": (HookPoint.BEFORE_STATE_WRITE, HookPoint.AFTER_STATE_WRITE),
    "event_emit": (HookPoint.BEFORE_EVENT_EMIT, HookPoint.AFTER_EVENT_EMIT),
}

# --- actions ----------------------------------------------------------------------------------


@attrs.define(frozen=True)
class Modify:
    """Replace the operation's input (before hooks) or output (after hooks) with ``value``."""

    value: Any


@attrs.define(frozen=True)
class Skip:
    """Do not run the operation; use ``result`` as its output (before hooks, on_error)."""

    result: Any = None


@attrs.define(frozen=True)
class Cancel:
    """Stop the operation; it fails with code ``hook_cancelled`` and this ``reason``."""

    reason: str = "cancelled by a hook"


@attrs.define(frozen=True)
class Retry:
    """Run the operation again after ``delay`` seconds (after hooks, on_error; bounded)."""

    reason: str = ""
    delay: float = 0.0


Action = Modify | Skip | Cancel | Retry

_ALLOWED: dict[str, tuple[type, ...]] = {
    "before": (Modify, Skip, Cancel),
    "after": (Modify, Cancel, Retry),
    "on_error": (Skip, Retry),
    "spell_start": (Modify, Cancel),
    "spell_end": (Modify,),
}


def _phase(point: HookPoint) -> str:
    if point.value.startswith("before_"):
        return "before"
    if point.value.startswith("after_"):
        return "after"
    return point.value


_PHASES = {point: _phase(point) for point in HookPoint}


def as_action(value: Any, *, hook: str, point: HookPoint) -> Action | None:
    """Interpret a hook's return value: ``None``, an action object, or the script form
    ``{"action": "modify"|"skip"|"cancel"|"retry"|"continue", ...}``.

    Raises ``plugin_error`` naming the hook for anything else or for an action the point does not
    allow.
    """
    if value is None:
        return None
    action: Any = value
    if isinstance(value, dict) and "action" in value:
        kind = value["action"]
        if kind == "continue":
            return None
        if kind == "modify":
            key = "output" if _PHASES[point] in ("after", "spell_end") else "input"
            if key not in value and "value" not in value:
                raise LlmspellError(
                    "plugin_error",
                    f"hook {hook!r} at {point.value} returned action 'modify' without {key!r}",
                    {"hook": hook, "point": point.value},
                )
            action = Modify(value.get(key, value.get("value")))
        elif kind == "skip":
            action = Skip(value.get("result"))
        elif kind == "cancel":
            action = Cancel(str(value.get("reason") or "cancelled by a hook"))
        elif kind == "retry":
            action = Retry(str(value.get("reason") or ""), float(value.get("delay") or 0.0))
        else:
            action = value
    allowed = _ALLOWED[_PHASES[point]]
    if not isinstance(action, allowed):
        names = ", ".join(a.__name__.lower() for a in allowed)
        raise LlmspellError(
            "plugin_error",
            f"hook {hook!r} at {point.value} returned {value!r}; allowed: nothing (continue), "
            f"{names}",
            {"hook": hook, "point": point.value},
        )
    return cast(Action, action)


# --- context ----------------------------------------------------------------------------------


@attrs.define(eq=False)
class HookContext:
    """What a lifecycle hook sees of one operation; one object from ``before`` to ``after``.

    ``metadata`` is free for hooks to share data between the points of one operation (a
    span). ``attempt`` counts retries from 0; ``skipped`` is true in after hooks when a before
    hook skipped the operation. ``started`` is ``time.perf_counter()`` when the operation began
    (before its before hooks), so a hook can time it without a before hook of its own.
    """

    point: HookPoint
    kind: str
    name: str
    input: Any = None
    output: Any = None
    error: LlmspellError | None = None
    attempt: int = 0
    skipped: bool = False
    run_id: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)
    #: the :class:`~llmspell.runtime.SpellRun` the operation belongs to (``None`` outside a
    #: run): its kernel (and ``kernel.config``), policy and ``emit`` are there for hooks
    run: Any = attrs.field(default=None, repr=False)
    started: float = attrs.field(factory=time.perf_counter, repr=False)


# --- dispatch ---------------------------------------------------------------------------------


@attrs.define(frozen=True)
class HookEntry:
    """One implementation in a point's chain."""

    name: str
    function: Callable[[HookContext], Any]
    priority: int
    source: str  # "plugin" or "runtime"


@attrs.define(frozen=True)
class HookHandle:
    """Returned by :meth:`HookDispatcher.register`; pass it to ``unregister``."""

    point: HookPoint
    id: int


_ids = itertools.count(1)


class HookDispatcher:
    """Calls the lifecycle hooks of one kernel (and, optionally, one run).

    ``plugins`` is the kernel's pluggy manager; call :meth:`invalidate` after registering or
    unregistering plugins so the cached chains are rebuilt. ``max_retries`` bounds ``Retry``.
    A :meth:`child` dispatcher (one per run) also calls its parent's run-time hooks, placed
    before its own at equal priority, and sees the parent's changes as they happen.
    """

    def __init__(
        self,
        plugins: pluggy.PluginManager | None = None,
        *,
        max_retries: int = 3,
        parent: HookDispatcher | None = None,
    ):
        self.plugins = plugins
        self.max_retries = max_retries
        self.parent = parent
        self._run: weakref.ref[Any] | None = None
        self._children: weakref.WeakSet[HookDispatcher] = weakref.WeakSet()
        self._runtime: dict[HookPoint, list[tuple[int, HookEntry]]] = {}
        self._chains: dict[HookPoint, tuple[HookEntry, ...]] = {}
        self._has: dict[str, bool] = {}
        if parent is not None:
            parent._children.add(self)

    @property
    def run(self) -> Any:
        """The run this dispatcher serves (set on every context it calls hooks with), or None.
        Held weakly: the run owns its dispatcher, and without a cycle between them a finished
        run -- with its script runtime -- is freed as soon as it is dropped, not at the
        garbage collector's next pass."""
        return None if self._run is None else self._run()

    @run.setter
    def run(self, run: Any) -> None:
        self._run = None if run is None else weakref.ref(run)

    def child(self) -> HookDispatcher:
        """A dispatcher with the same plugins and retry bound, inheriting this one's run-time
        hooks, to which run-time hooks of its own can be added."""
        return HookDispatcher(self.plugins, max_retries=self.max_retries, parent=self)

    def invalidate(self) -> None:
        """Forget cached chains, here and in every child."""
        self._chains.clear()
        self._has.clear()
        for child in list(self._children):
            child.invalidate()

    def _runtime_entries(self, point: HookPoint) -> list[HookEntry]:
        inherited = self.parent._runtime_entries(point) if self.parent is not None else []
        return inherited + [e for _, e in self._runtime.get(point, [])]

    def register(
        self,
        point: HookPoint | str,
        function: Callable[[HookContext], Any],
        *,
        priority: int = 0,
        name: str | None = None,
    ) -> HookHandle:
        """Add a run-time hook at ``point``; it lives until :meth:`unregister`."""
        point = HookPoint.parse(point) if isinstance(point, str) else point
        label = name or str(getattr(function, "__qualname__", None) or repr(function))
        entry = HookEntry(label, function, priority, "runtime")
        handle = HookHandle(point, next(_ids))
        self._runtime.setdefault(point, []).append((handle.id, entry))
        self.invalidate()
        return handle

    def unregister(self, handle: HookHandle) -> bool:
        """Remove a run-time hook; ``False`` if it was already gone."""
        entries = self._runtime.get(handle.point, [])
        for i, (hid, _) in enumerate(entries):
            if hid == handle.id:
                del entries[i]
                self.invalidate()
                return True
        return False

    def chain(self, point: HookPoint) -> tuple[HookEntry, ...]:
        """The implementations of ``point`` in call order."""
        cached = self._chains.get(point)
        if cached is not None:
            return cached
        parent = self.parent
        if parent is not None and parent.plugins is self.plugins and not self._runtime.get(point):
            # nothing of its own at this point (a run's dispatcher, usually): the parent's chain,
            # built once for every run (invalidating the parent invalidates this cache too)
            chain = self._chains[point] = parent.chain(point)
            return chain
        plugin_entries: list[HookEntry] = []
        if self.plugins is not None:
            caller = getattr(self.plugins.hook, point.hook_name, None)
            if caller is not None:
                # pluggy calls get_hookimpls() in reverse order
                for impl in reversed(caller.get_hookimpls()):
                    fn = impl.function
                    call = _bind(fn, impl.argnames)
                    plugin_entries.append(
                        HookEntry(
                            f"{impl.plugin_name}.{fn.__name__}",
                            call,
                            getattr(fn, PRIORITY_ATTR, 0),
                            "plugin",
                        )
                    )
        runtime = self._runtime_entries(point)
        # stable sort keeps plugin-before-runtime and each source's own order at equal priority
        chain = tuple(sorted(plugin_entries + runtime, key=lambda e: -e.priority))
        self._chains[point] = chain
        return chain

    def has_hooks(self, kind: str, *, on_error: bool = True) -> bool:
        """Whether operation ``kind`` has any before or after hook, or (unless ``on_error`` is
        false) any on_error hook."""
        key = kind if on_error else f"{kind}/around"
        has = self._has.get(key)
        if has is None:
            before, after = OPERATIONS[kind]
            has = bool(self.chain(before) or self.chain(after))
            if on_error:
                has = has or bool(self.chain(HookPoint.ON_ERROR))
            self._has[key] = has
        return has

    async def call(self, point: HookPoint, ctx: HookContext) -> Action | None:
        """Run ``point``'s chain on ``ctx``; apply ``Modify`` in place and return the first
        ``Skip``/``Cancel``/``Retry`` (ending the chain), or ``None``."""
        chain = self.chain(point)
        if not chain:
            return None
        out = self._run_chain(point, ctx, chain)
        if isinstance(out, _Pending):
            return await out.finish()
        return out

    def _run_chain(
        self, point: HookPoint, ctx: HookContext, chain: tuple[HookEntry, ...]
    ) -> Action | _Pending | None:
        """Run ``chain`` synchronously up to its end, its first action, or the first hook that
        returns an awaitable (then a :class:`_Pending` that awaits it and goes on): a chain of
        plain functions costs no coroutine."""
        ctx.point = point
        if ctx.run is None and self._run is not None:
            ctx.run = self._run()
        for index, entry in enumerate(chain):
            try:
                value = entry.function(ctx)
                if value is None:
                    continue
                if inspect.isawaitable(value):
                    return _Pending(self, point, ctx, chain, index, value)
            except LlmspellError:
                raise
            except Exception as exc:
                raise _hook_failed(entry, point, exc) from exc
            action = _apply(entry, point, ctx, value)
            if action is not None:
                return action
        return None

    async def guard(
        self,
        kind: str,
        name: str,
        input: Any,
        operation: Callable[[Any], Awaitable[Any]],
        *,
        run_id: str | None = None,
        ctx: HookContext | None = None,
    ) -> Any:
        """Run ``operation(input)`` inside the ``kind`` operation's hook points.

        before hooks may modify the input, skip (after hooks still run, with ``ctx.skipped``) or
        cancel; the operation's ``LlmspellError`` goes to ``on_error`` hooks, which may recover
        (skip) or retry; after hooks may modify the output, cancel or retry. Retries are bounded
        by ``max_retries``: past it an on_error retry re-raises the error, an after retry fails
        with code ``limit``. Returns the (possibly modified) output.
        """
        before, after = OPERATIONS[kind]
        if ctx is None:
            ctx = HookContext(before, kind, name, input, run_id=run_id)
        # (the chains run inline: no coroutine unless a hook is async)
        chain = self.chain(before)
        action = self._run_chain(before, ctx, chain) if chain else None
        if isinstance(action, _Pending):
            action = await action.finish()
        if isinstance(action, Cancel):
            raise _cancelled(kind, name, action)
        if isinstance(action, Skip):
            ctx.output = action.result
            ctx.skipped = True
        while True:
            if not ctx.skipped:
                try:
                    ctx.output = await operation(ctx.input)
                except LlmspellError as err:
                    ctx.error = err
                    recovery = await self.call(HookPoint.ON_ERROR, ctx)
                    if isinstance(recovery, Skip):
                        ctx.output = recovery.result
                        ctx.error = None
                    elif isinstance(recovery, Retry) and ctx.attempt < self.max_retries:
                        ctx.attempt += 1
                        ctx.error = None
                        if recovery.delay > 0:
                            await trio.sleep(recovery.delay)
                        continue
                    else:
                        raise
            chain = self.chain(after)
            action = self._run_chain(after, ctx, chain) if chain else None
            if isinstance(action, _Pending):
                action = await action.finish()
            if isinstance(action, Cancel):
                raise _cancelled(kind, name, action)
            if isinstance(action, Retry):
                if ctx.attempt >= self.max_retries:
                    raise LlmspellError(
                        "limit",
                        f"hooks asked to retry {kind} {name!r} more than {self.max_retries} "
                        f"times (last reason: {action.reason or 'none given'})",
                        {"kind": kind, "name": name, "max_retries": self.max_retries},
                    )
                ctx.attempt += 1
                ctx.skipped = False
                if action.delay > 0:
                    await trio.sleep(action.delay)
                continue
            return ctx.output


@attrs.define(eq=False)
class _Pending:
    """The rest of a chain after a hook returned an awaitable (see
    :meth:`HookDispatcher._run_chain`)."""

    dispatcher: HookDispatcher
    point: HookPoint
    ctx: HookContext
    chain: tuple[HookEntry, ...]
    index: int
    value: Awaitable[Any]

    async def finish(self) -> Action | None:
        pending: _Pending | Action | None = self
        while isinstance(pending, _Pending):
            entry = pending.chain[pending.index]
            try:
                value = await pending.value
            except LlmspellError:
                raise
            except Exception as exc:
                raise _hook_failed(entry, pending.point, exc) from exc
            action = _apply(entry, pending.point, pending.ctx, value)
            if action is not None:
                return action
            rest = pending.chain[pending.index + 1:]
            pending = pending.dispatcher._run_chain(pending.point, pending.ctx, rest)
        return pending


def _apply(entry: HookEntry, point: HookPoint, ctx: HookContext, value: Any) -> Action | None:
    """Apply a hook's return value: ``Modify`` changes ``ctx`` in place (``None`` returned);
    another action is returned."""
    action = as_action(value, hook=entry.name, point=point)
    if action is None:
        return None
    if isinstance(action, Modify):
        if _PHASES[point] in ("before", "spell_start"):
            ctx.input = action.value
        else:
            ctx.output = action.value
        return None
    return action


def _hook_failed(entry: HookEntry, point: HookPoint, exc: Exception) -> LlmspellError:
    return LlmspellError(
        "plugin_error",
        f"hook {entry.name!r} at {point.value} failed: {type(exc).__name__}: {exc}",
        {"hook": entry.name, "point": point.value},
    )


def _cancelled(kind: str, name: str, action: Cancel) -> LlmspellError:
    return LlmspellError(
        "hook_cancelled",
        f"{kind} {name!r} cancelled by a hook: {action.reason}",
        {"kind": kind, "name": name, "reason": action.reason},
    )


def _bind(fn: Callable[..., Any], argnames: tuple[str, ...]) -> Callable[[HookContext], Any]:
    if argnames == ("ctx",):
        return fn
    if not argnames:
        return lambda ctx: fn()
    raise LlmspellError(
        "plugin_error",
        f"hook implementation {fn.__qualname__} takes {argnames}; lifecycle hooks take (ctx)",
    )
