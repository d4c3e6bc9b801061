"""The JavaScript engine: a spell is an ES module run on QuickJS (``quickjs-ng``) with top-level
``await``; the spell API is the host operation table of :mod:`llmspell.scripting.hostops`.

How the bridge works (see DESIGN.md section 5 and this package's README):

- **JS never calls Python.** A host operation called by the spell pushes a request into an
  outbox inside JS and returns a Promise. After every *slice* (one call into JS followed by
  draining its job queue with ``execute_pending_job``) the driver takes the outbox as one JSON
  string and dispatches the requests. Results go back as one JSON string per settlement; the
  promise is resolved (or rejected with an error object carrying ``code``, ``message`` and
  ``details``) and the job queue is drained again. The driver functions come back to Python as
  the prelude's completion value; spells cannot reach them.
- **Script tasks.** The module is script task 0. Every script function the host calls (a
  ``Task.spawn``/``Task.all`` function, a ``Tool.define`` tool, an event handler, a hook, a
  workflow step) runs as a new script task with its own id and its own trio nursery: the host
  operations it requests run in that nursery, so cancelling the task (its trio cancel scope)
  cancels them, and their promises are never settled. JS tracks the *current task*: it is set
  when the driver invokes a script function or settles a promise (to the task that made the
  request) and stays for the jobs that follow, so requests made by code resumed by a settlement
  belong to the task whose promise was settled.
- **The prelude** is compiled once per process and loaded into every new context as bytecode
  (see :mod:`llmspell_js._native`; without it every context compiles the source).
- **Limits.** ``cpu_seconds`` is a budget for the whole run: every slice may use what is left
  of it and is charged what it used; a slice also stops at the run's wall deadline
  (``wall_seconds``). The context's interrupt handler enforces both
  (:class:`llmspell_js._native.SliceGuard`, armed per slice: no system call per call into JS);
  without the native calls the binding's ``set_time_limit`` does (:meth:`JsBridge._slice_timed`).
  Memory uses ``set_memory_limit`` and the call depth ``set_max_stack_size``. Reaching a limit
  ends the spell with code ``limit``; nothing in the spell can catch it (see
  :func:`guard_catches`); the context is thrown away with the run (each run has a fresh one).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import math
import os
import re
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

import attrs
import quickjs
import trio

from llmspell.errors import ERROR_CODES, LlmspellError
from llmspell.runtime import SpellRun
from llmspell.scripting.hostops import HOST_OPS, call_op
from llmspell.scripting.session import ScriptSession, TaskRecord
from llmspell.security import Limits
from llmspell_js import _native

log = logging.getLogger("llmspell.js")

#: Blank lines in front of the prelude: stack frames with a line >= this are the prelude's.
PRELUDE_OFFSET = 30_000
#: Bytes of QuickJS stack allowed per level of ``Limits.max_depth`` (a plain JS call takes about
#: 1.7 KB of C stack, a call through a builtin such as ``Array.prototype.map`` about 4 times more).
STACK_BYTES_PER_LEVEL = 4096
MIN_STACK_BYTES = 256 * 1024
#: A context with less memory than this left below its limit has run out of memory (see
#: JsBridge._memory_exhausted).
EXHAUSTED_SLACK = 64 * 1024
MAX_SAFE_INT = 2**53
FN_KEY = "__llmspell_fn"
TASK_KEY = "__llmspell_task"
#: Operations whose function arguments run as tasks of their own (not nested callbacks).
TASK_OPS = frozenset({"task.all", "task.race", "task.timeout"})
#: Host operations a script task runs in a row before it yields to trio (when none of them did).
CHECKPOINT_EVERY = 64
#: Operations the prelude sends without waiting for a result.
FIRE_AND_FORGET = frozenset({"print", "log"})

#: Deepest nesting of script functions called by the host from script code called by the host
#: (a script tool calling itself through ``Tool.call`` ...): past it the spell ends with code
#: ``limit`` (``max_depth``) instead of growing without bound outside the JS heap.
MAX_CALLBACK_NESTING = 40

#: nesting of the script task whose host operation is running in this trio task
_nesting: contextvars.ContextVar[int] = contextvars.ContextVar("llmspell_js_nesting", default=0)

_FRAME = re.compile(r"<input>:(\d+)(?::(\d+))?")
_LOAD_FAILED = re.compile(r"could not load module '(.*)'$")


def _load_prelude() -> str:
    # read through this module's loader (what importlib.resources does for a package on disk or
    # in a zip file, without importing importlib.resources at start-up), as text mode reads it
    path = os.path.join(os.path.dirname(__file__), "prelude.js")
    loader = globals().get("__loader__")
    if loader is not None and hasattr(loader, "get_data"):
        text = loader.get_data(path).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    else:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    return "\n" * PRELUDE_OFFSET + text.replace("__OFFSET__", str(PRELUDE_OFFSET))


PRELUDE = _load_prelude()


class PreludeLoader:
    """Makes the contexts of the engine: a new ``quickjs.Context`` with the prelude run in it.

    The first context compiles the prelude; when the binding allows it (see
    :mod:`llmspell_js._native`) the bytecode is kept and every later context loads it instead of
    compiling the source again. If that is not possible, or ever fails, the prelude's source is
    evaluated in every context (as fast as the first one, and the same prelude either way)."""

    def __init__(self) -> None:
        self.native: _native.Native | None = None
        self.code: bytes | None = None
        self.checked = False

    def new_context(self) -> tuple[Any, Any, _native.SliceGuard | None]:
        """``(context, the prelude's completion value, the guard of its slices)``; the guard is
        ``None`` without the native calls (see :class:`llmspell_js._native.Boot`)."""
        ctx = quickjs.Context()
        if not self.checked:
            self.checked = True
            self.native = _native.loader()
        native = self.native
        if native is None:
            return ctx, ctx.eval(PRELUDE), None
        try:
            boot = native.boot(ctx, PRELUDE, self.code)
        except _native.LoadError as exc:
            log.warning("the JS prelude is compiled from source from now on: %s", exc)
            self.native = None
            ctx = quickjs.Context()  # the failed attempt may have run part of the prelude
            return ctx, ctx.eval(PRELUDE), None
        self.code = boot.code
        return ctx, boot.driver, boot.guard


_PRELUDE_LOADER = PreludeLoader()


def check_json(value: Any, where: str = "value") -> None:
    """Raise ``invalid_value`` unless ``value`` is JSON data JS can hold exactly (integers within
    +-2^53, finite floats)."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise LlmspellError(
                "invalid_value",
                f"{where}: integer {value} is beyond +-2^53 and cannot cross into JavaScript "
                "exactly",
                {"value": str(value)},
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LlmspellError("invalid_value", f"{where}: {value} is not JSON data", {})
        return
    if isinstance(value, dict):
        for key, item in value.items():
            check_json(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]")
        return
    raise LlmspellError(
        "invalid_value",
        f"{where}: a {type(value).__name__} is not JSON data",
        {"type": type(value).__name__},
    )


_ENCODE = json.JSONEncoder(allow_nan=False).encode
#: ``(value, end)`` of the JSON text starting at an index (``StopIteration`` if there is none):
#: json's C scanner, which ``json.loads`` wraps
_scan_json: Callable[[str, int], tuple[Any, int]] = (
    json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__
)


def dumps(value: Any, where: str = "value") -> str:
    """``value`` as JSON text for JS (``invalid_value`` if it cannot cross exactly)."""
    if value is None:
        return "null"
    check_json(value, where)
    return _ENCODE(value)


class Gate:
    """Orders the requests of one script task: the next one waits until this one has started
    (or ended). A ``trio.Event`` is made only when someone has to wait."""

    __slots__ = ("_event", "opened")

    def __init__(self) -> None:
        self.opened = False
        self._event: trio.Event | None = None

    def open(self) -> None:
        self.opened = True
        if self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        if self._event is None:
            self._event = trio.Event()
            if self.opened:
                self._event.set()
        await self._event.wait()


@attrs.define(eq=False)
class ScriptTask:
    """One running script task: the nursery its host operations run in, and its outcome."""

    id: int
    depth: int = 0
    nursery: trio.Nursery | None = None
    done: trio.Event = attrs.field(factory=trio.Event)
    outcome: tuple[bool, Any] = (False, None)
    #: completion (or start, for waiting operations) of the last operation dispatched: the next
    #: one waits for it, so a task's requests start in the order it made them
    last: Gate | None = None
    #: the task's own trio task serves requests here (see :meth:`JsBridge._serve`)
    serving: bool = False
    busy: bool = False
    #: the task's serving loop is delivering a result (it looks at the queue right after)
    delivering: bool = False
    queue: list[tuple[Any, ...]] = attrs.field(factory=list)
    wakeup: trio.Event = attrs.field(factory=trio.Event)

    def finish(self, outcome: tuple[bool, Any]) -> None:
        if not self.done.is_set():
            self.outcome = outcome
            self.done.set()
            self.wakeup.set()


@attrs.define(eq=False)
class JsCallback:
    """A script function handed to the host (the ``Callback`` protocol of
    :mod:`llmspell.scripting.session`): calling it runs the function as a new script task."""

    bridge: JsBridge
    fid: int
    name: str = "function"
    bound: tuple[Any, ...] = ()
    error: LlmspellError | None = None
    #: started as a task of its own (``Task.spawn``/``all``/``race``/``timeout``): it does not
    #: nest in the script function that started it
    root: bool = False

    @property
    def step_name(self) -> str | None:
        return self.name if self.name not in ("", "function", "task") else None

    def __attrs_post_init__(self) -> None:
        # when the host drops this callback, let JS forget the function (once all are gone)
        weakref.finalize(self, self.bridge.released.append, self.fid)

    async def __call__(self, *args: Any) -> Any:
        if self.error is not None:
            raise self.error
        return await self.bridge.invoke(self.fid, [*self.bound, *args], root=self.root)


class JsBridge:
    """One QuickJS context bound to one :class:`ScriptSession`."""

    def __init__(self, session: ScriptSession, filename: str, limits: Limits) -> None:
        self.session = session
        self.filename = filename
        # the prelude's completion value hands over the driver (spells only see a stand-in)
        self.ctx, fn, guard = _PRELUDE_LOADER.new_context()
        #: the limits of each slice, checked by an interrupt handler (None: the binding's time
        #: limit, see _slice_timed)
        self._guard = guard
        #: the prelude's lookup of its driver functions (the rarely used ones are fetched on use)
        self._driver = fn
        self._take = fn("take")
        self._settle = fn("settle")
        self._main = fn("main")
        #: callback ids whose :class:`JsCallback` was garbage-collected (one entry per object)
        self.released: list[int] = []
        self._init = fn("init")
        self.cpu_limit = limits.cpu_seconds
        self.cpu_used = 0.0
        #: ``time.perf_counter()`` at which the run's wall time is over (set by the engine for
        #: a spell run; a REPL session has none)
        self.wall_seconds = limits.wall_seconds
        self.wall_deadline: float | None = None
        #: the current slice's time limit is the wall time left (not the CPU budget)
        self.wall_armed = False
        if limits.memory_bytes:
            self.ctx.set_memory_limit(int(limits.memory_bytes))
        self.memory_limit = limits.memory_bytes
        self.max_depth = limits.max_depth
        if limits.max_depth:
            self.ctx.set_max_stack_size(
                max(MIN_STACK_BYTES, int(limits.max_depth) * STACK_BYTES_PER_LEVEL)
            )
        self.tasks: dict[int, ScriptTask] = {}
        self._next_task = 0
        self._spawned: dict[int, TaskRecord] = {}
        self._outer: trio.Nursery | None = None
        self._scope: trio.CancelScope | None = None
        self.fatal: LlmspellError | None = None
        self.dead = False
        #: the spell subscribed to events (handlers may still run after the module ended)
        self.subscribed = False
        #: the spell's source (to locate a failed import, whose error has no stack)
        self.source = ""

    @functools.cached_property
    def _orphans(self) -> ScriptTask:
        """Where requests of script tasks that have ended are run (made when first needed)."""
        return ScriptTask(-1)

    # the driver functions a run may never need, fetched from the prelude on first use
    @functools.cached_property
    def _invoke(self) -> Any:
        return self._driver("invoke")

    @functools.cached_property
    def _kill(self) -> Any:
        return self._driver("kill")

    @functools.cached_property
    def _release(self) -> Any:
        return self._driver("release")

    @functools.cached_property
    def _evaluate(self) -> Any:
        return self._driver("evaluate")

    # --- running the spell ---------------------------------------------------------------------

    async def run(self, source: str) -> Any:
        """Run the spell's module, wait for its spawned tasks (``session.finish()``) and return
        its ``export default`` value (``null`` without one)."""
        self.source = source
        args = dumps(self.session.run.args, "args")
        outcome: tuple[bool, Any] = (False, None)
        async with trio.open_nursery() as outer:
            # cancelled when the engine stops (_fail): it ends everything of the run
            self._scope = outer.cancel_scope
            self._outer = outer
            try:
                result = await self._run_main(source, args)
                await self.session.finish()
                outcome = (True, result)
            except LlmspellError as err:
                outcome = (False, err)
                outer.cancel_scope.cancel()
        self._outer = None
        if self.fatal is not None:
            raise self.fatal
        ok, value = outcome
        if not ok:
            raise value
        return value

    async def _run_main(self, source: str, args: str) -> Any:
        main = ScriptTask(0)
        self.tasks[0] = main
        try:
            async with trio.open_nursery() as nursery:
                main.nursery = nursery
                if self._slice(self._start_main, source, args):
                    await self._serve(main, nursery)
                    if not main.outcome[0]:  # failed: its unawaited operations end with it
                        nursery.cancel_scope.cancel()
        finally:
            main.nursery = None
            self.tasks.pop(0, None)
        if self.fatal is not None:
            raise self.fatal
        ok, value = main.outcome
        if value is _STOPPED:
            raise LlmspellError("engine_error", f"{self.filename}: the script engine stopped")
        if not ok:
            raise self.script_error(value)
        return self._to_python(value, "the spell's result", callbacks=False)

    def _start_main(self, source: str, args: str) -> None:
        """Define ``args`` (JSON text), then evaluate the module and watch its promise."""
        self._init(args)
        guarded = guard_catches(source)
        try:
            promise = self.ctx.module(guarded)
        except quickjs.JSException as exc:
            if guarded is source or not str(exc).startswith("SyntaxError"):
                raise
            # compiling runs nothing: a syntax error of the spell itself is reported as it is;
            # if only the guarded text fails, the guard misread the source: run it unguarded
            promise = self.ctx.module(source)
            log.warning("%s: cannot guard catch clauses against limits: %s", self.filename, exc)
        self._main(promise)

    def close(self) -> None:
        """Drop the context (the spell failed)."""
        self.dead = True
        self._stop_tasks()
        self._take = self._settle = self._main = self._init = self._driver = None
        for name in ("_invoke", "_kill", "_release", "_evaluate"):
            self.__dict__.pop(name, None)  # the cached driver functions hold the context
        self.ctx = None

    # --- callbacks -----------------------------------------------------------------------------

    async def invoke(self, fid: int, args: list[Any], *, root: bool = False) -> Any:
        """Run script function ``fid`` on ``args`` as a new script task; its result, or its error
        as ``LlmspellError``. Cancelling the caller cancels the task."""
        await trio.lowlevel.checkpoint()
        if self.dead:
            raise self.fatal or LlmspellError(
                "engine_error",
                f"{self.filename}: the spell has ended; its functions cannot run",
                {"file": self.filename},
            )
        depth = 1 if root else _nesting.get() + 1
        if depth > MAX_CALLBACK_NESTING:
            err = LlmspellError(
                "limit",
                f"{self.filename}: script functions called by the host nest more than "
                f"{MAX_CALLBACK_NESTING} deep (max_depth)",
                {"limit": "max_depth", "value": MAX_CALLBACK_NESTING, "file": self.filename},
            )
            self._fail(err)
            raise err
        payload = dumps(args, "arguments")
        return await self._run_task(depth, self._invoke, fid, payload)

    async def evaluate(self, source: str) -> Any:
        """Run REPL input ``source`` as a script in the global scope (as a new script task);
        the value of its completion, awaited if it is a promise."""
        await trio.lowlevel.checkpoint()
        if self.dead:
            raise self.fatal or LlmspellError("engine_error", "the script engine stopped")
        script, in_async = map(guard_catches, repl_sources(source))
        return await self._run_task(1, self._evaluate, script, in_async)

    async def _run_task(self, depth: int, start: Callable[..., Any], *args: Any) -> Any:
        """Start a script task with ``start(*args, task_id)`` and wait for its outcome."""
        self._next_task += 1
        task = ScriptTask(self._next_task, depth)
        self.tasks[task.id] = task
        call_args = (args[0], task.id, args[1]) if start is self._invoke else (*args, task.id)
        try:
            async with trio.open_nursery() as nursery:
                task.nursery = nursery
                if self._slice(start, *call_args):
                    await self._serve(task, nursery)
                    if not task.outcome[0]:
                        nursery.cancel_scope.cancel()
        finally:
            task.nursery = None
            self.tasks.pop(task.id, None)
            if not task.done.is_set() and not self.dead:
                self._kill_task(task.id)
        ok, value = task.outcome
        if not task.done.is_set() or value is _STOPPED:
            raise self.fatal or LlmspellError(
                "engine_error", f"{self.filename}: the spell ended before the function returned",
                {"file": self.filename},
            )
        if not ok:
            err = self.script_error(value)
            if err.details.get("limit") in ("max_depth", "memory_bytes"):
                self._fail(err)  # a limit in any task ends the spell: nothing can catch it
            raise err
        return self._to_python(value, "the function's result", callbacks=False)

    def _kill_task(self, tid: int) -> None:
        """The task was cancelled: forget its pending promises, so none of its code runs."""
        try:
            self.ctx.set_time_limit(-1)
            self._kill(tid)
        except quickjs.JSException as exc:  # out of memory even for that
            self._fail(self._js_failure(exc))

    # --- slices --------------------------------------------------------------------------------

    def _slice(self, fn: Callable[..., Any], *args: Any, trusted: bool = False) -> bool:
        """Call into JS, drain the job queue and dispatch the outbox; false once the engine has
        stopped (a limit, or an error escaping JS). ``trusted``: the call ``fn(*args)`` runs
        only the prelude's own code (no code of the spell can be reached); only the binding's
        time limit (:meth:`_slice_timed`) makes use of that.

        The CPU budget and the wall deadline are enforced by the context's interrupt handler
        (:class:`llmspell_js._native.SliceGuard`), which also measures what the slice is
        charged."""
        if self.dead:
            return False
        guard = self._guard
        if guard is None:
            return self._slice_timed(fn, args, trusted)
        run_job = self.ctx.execute_pending_job
        cpu_limit = self.cpu_limit
        wall_deadline = self.wall_deadline
        try:
            start = time.perf_counter()
            cpu_left = None if cpu_limit is None else cpu_limit - self.cpu_used
            if wall_deadline is not None and start >= wall_deadline:
                self.wall_armed = True
                raise _CpuExhausted
            if cpu_left is not None and cpu_left <= 0:
                self.wall_armed = False
                raise _CpuExhausted
            # guard.arm(start, cpu_left, wall_deadline), inlined (it is per host call); armed
            # without limits too, so that Ctrl-C stops the JS
            guard.start = start
            guard.cpu_left = cpu_left
            guard.wall_deadline = wall_deadline
            guard.cpu0 = guard.hit = None
            guard.active = True
            hook = sys.unraisablehook  # see _native.unraisable: Ctrl-C is not lost
            _native.previous_unraisable[0] = hook
            sys.unraisablehook = _native.unraisable
            try:
                if self.released:
                    self._hand_released()
                fn(*args)
                # once interrupted, no job runs any more: an interrupted async function or
                # module rejects its promise, and no handler of the spell may see that
                while guard.hit is None and run_job():
                    pass
            finally:
                sys.unraisablehook = hook
                self.cpu_used += guard.disarm()
                # which limit an interruption (or the rejection it caused) stands for
                self.wall_armed = guard.hit == "wall"
                if _native.SIGNALS:  # a signal's exception while the JS ran: raised here
                    raise _native.SIGNALS.pop(0)
            if guard.hit is not None:
                raise _CpuExhausted
        except _CpuExhausted:
            self._fail(self._wall_error() if self.wall_armed else self._cpu_error())
            self._flush_output()
            return False
        except quickjs.JSException as exc:
            err = self._js_failure(exc)
            if self.wall_armed and err.details.get("limit") == "cpu_seconds":
                err = self._wall_error(err.details)
            self._fail(err)
            self._flush_output()
            return False
        self._flush()
        return not self.dead

    def _slice_timed(self, fn: Callable[..., Any], args: tuple[Any, ...], trusted: bool) -> bool:
        """:meth:`_slice` without the native calls: the limits are the binding's time limit,
        set for every call into JS that may run code of the spell (with one, the binding reads
        the process CPU clock, a system call, per call)."""
        ctx = self.ctx
        run_job = ctx.execute_pending_job
        start = time.thread_time()
        try:
            limit = self.cpu_limit
            if limit is None and self.wall_deadline is None:
                if self.released:
                    self._hand_released()
                fn(*args)
                while run_job():
                    pass
            else:
                perf_counter = time.perf_counter
                set_time_limit = ctx.set_time_limit
                wall = perf_counter()
                if self.wall_deadline is not None:
                    # a busy loop never yields to trio: the slice also stops at the run's wall
                    # time
                    wall_left = self.wall_deadline - wall
                    if limit is None or wall_left < limit - self.cpu_used:
                        limit = wall_left
                        self.wall_armed = True
                    else:
                        self.wall_armed = False
                # the binding's time limit counts from the start of each call into JS: every
                # call gets what is left of the budget. Between the jobs of one slice that is
                # measured on the monotonic clock (a cheap read that is never less than the
                # thread's CPU time over the same stretch, so this errs on the safe side); the
                # slice is charged its CPU time at the end.
                assert limit is not None  # a CPU limit, or the wall deadline set it above
                left = limit if self.wall_armed else limit - self.cpu_used
                if self.released or not trusted:
                    if left <= 0:
                        raise _CpuExhausted
                    set_time_limit(left)
                    if self.released:
                        self._hand_released()
                fn(*args)
                while True:
                    now = left - (perf_counter() - wall)
                    if now <= 0:
                        raise _CpuExhausted
                    set_time_limit(now)
                    if not run_job():
                        break
                # taking the outbox runs no code of the spell: without a time limit the binding
                # does not read the process CPU clock for that call
                set_time_limit(-1)
        except _CpuExhausted:
            self._fail(self._wall_error() if self.wall_armed else self._cpu_error())
            self._flush_output()
            return False
        except quickjs.JSException as exc:
            err = self._js_failure(exc)
            if self.wall_armed and err.details.get("limit") == "cpu_seconds":
                err = self._wall_error(err.details)
            self._fail(err)
            self._flush_output()
            return False
        finally:
            self.cpu_used += time.thread_time() - start
        self._flush()
        return not self.dead

    def _hand_released(self) -> None:
        """Tell JS which callback ids the host has dropped."""
        ids, self.released[:] = ",".join(map(str, self.released)), []
        self._release(ids)

    def _fail(self, err: LlmspellError) -> None:
        """Stop the engine and end the spell with ``err``."""
        if self.fatal is None:
            self.fatal = err
        self.dead = True
        if self._scope is not None:
            self._scope.cancel()
        self._stop_tasks()

    def _stop_tasks(self) -> None:
        """Wake every script task still waiting: its JS will never settle now."""
        for task in list(self.tasks.values()):
            task.finish((False, _STOPPED))

    def _print(self, args: list[Any]) -> None:
        text = str(args[0]) if args else ""
        # a lone surrogate (legal in a JS string) cannot be written as UTF-8
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        self.session.output(text)

    def _flush_output(self) -> None:
        """After a fatal error: still write what the spell printed before it (nothing else of
        the outbox runs)."""
        if self.fatal is None or self.fatal.details.get("limit") == "memory_bytes":
            return
        try:
            self.ctx.set_time_limit(-1)
            raw = self._take()
            msgs = json.loads(f"[{raw}]") if raw else []
        except (quickjs.JSException, ValueError):
            return
        for msg in msgs:
            if msg[0] == "call" and msg[3] == "print":
                self._print(msg[4])

    def _flush(self) -> None:
        raw = self._take()
        if not raw:
            return
        try:
            # json's C scanner on its own (json.loads adds three Python calls and two regular
            # expression matches); integers beyond +-2^53 are refused where values cross into
            # the host, by _to_python
            msg, end = _scan_json(raw, 0)
            if end == len(raw):
                if msg[0] == "call":  # the common case: one awaited request
                    self._dispatch(msg[1], msg[2], msg[3], msg[4], True, True)
                    return
                msgs = [msg]
            else:
                text = f"[{raw}]"
                msgs, end = _scan_json(text, 0)
                if end != len(text):
                    raise ValueError(f"extra data at {end}")
        except (ValueError, StopIteration) as exc:  # only if the prelude is broken
            self._fail(LlmspellError("engine_error", f"{self.filename}: bad outbox: {exc}"))
            return
        for pos, msg in enumerate(msgs):
            if msg[0] == "limit":  # caught by the spell, but a limit ends it all the same
                for before in msgs[:pos]:
                    if before[0] == "call" and before[3] == "print":
                        self._print(before[4])
                self._fail(self._caught_limit(str(msg[1]), str(msg[2])))
                return
        calls: dict[int, int] = {}
        for msg in msgs:
            if msg[0] == "call":
                calls[msg[2]] = calls.get(msg[2], 0) + 1
        for msg in msgs:
            kind = msg[0]
            if kind == "call":
                self._dispatch(msg[1], msg[2], msg[3], msg[4], calls[msg[2]] == 1)
            elif kind == "done":
                task = self.tasks.get(msg[1])
                if task is not None:
                    task.finish((bool(msg[2]), msg[3]))
            elif kind == "spawn":
                self._spawn(msg[1], msg[3], msg[4], msg[5])
            elif kind == "cancel":
                record = self._spawned.get(msg[1])
                if record is not None:
                    try:
                        self._call_now("task.cancel", [self.session.task_ref(record)])
                    except LlmspellError as err:
                        log.warning("%s: Task.cancel failed: %s", self.filename, err)

    def _call_now(self, op: str, args: list[Any]) -> Any:
        """Run host operation ``op`` (one that does not wait, such as ``task.spawn``) through
        the operation table right away, so it is checked and traced like every other one."""
        coro = call_op(self.session, op, args)
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value
        coro.close()
        raise LlmspellError(
            "engine_error", f"host operation {op!r} waited; it must complete at once",
            {"operation": op},
        )

    def _spawn(self, rid: int, fid: int, name: str, args: list[Any]) -> None:
        callback = JsCallback(self, fid, str(name or "task"), root=True)
        try:
            if not isinstance(args, list):
                raise LlmspellError(
                    "invalid_args", f"Task.spawn: the arguments must be a list, got "
                    f"{_js_type(args)}", {"operation": "task.spawn"},
                )
            callback.bound = tuple(self._to_python(args, "Task.spawn arguments"))
        except LlmspellError as err:
            callback.error = err
        try:
            ref = self._call_now("task.spawn", [callback])
            self._spawned[rid] = self.session.resolve(ref, "task")
        except LlmspellError as err:  # the run is closing
            log.warning("%s: Task.spawn failed: %s", self.filename, err)

    async def _serve(self, task: ScriptTask, nursery: trio.Nursery) -> None:
        """Wait in the task's own trio task until it is done, running there the requests it
        makes one at a time (a host call awaited on its own needs no trio task of its own);
        requests made together, or while one runs, get trio tasks in its nursery."""
        task.serving = True
        served = 0
        checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
        queue = task.queue
        # every operation run here is the task's: callbacks it makes nest in the task
        token = _nesting.set(task.depth)
        try:
            while not task.done.is_set():
                if queue:
                    # Host operations that do not wait (a state read) never yield to trio: a
                    # cancelled task stops before its next one (_execute checks, none of its
                    # code runs after cancellation), and every CHECKPOINT_EVERY operations the
                    # task yields so that other tasks, timeouts and limits get their turn.
                    served += 1
                    if served % CHECKPOINT_EVERY == 0:
                        await trio.lowlevel.checkpoint()
                        continue  # the task may have ended meanwhile
                    rid, op, args, prev, mine, _, checked = queue.pop(0)
                    task.busy = True
                    try:
                        ok, value = await self._execute(op, args, prev, mine, checked)
                    finally:
                        task.busy = False
                    await checkpoint_if_cancelled()
                    # not busy: its next request runs here too (queued by _dispatch)
                    task.delivering = True
                    self._deliver(rid, op, ok, value)
                    task.delivering = False
                    continue
                if (
                    task.id == 0 and not nursery.child_tasks and len(self.tasks) == 1
                    and self._memory_exhausted()
                ):
                    # Out of memory, QuickJS silently drops a promise job it cannot allocate,
                    # and a rejection handler that cannot allocate fails into a promise nobody
                    # sees: the module's end may never be reported. Nothing is left that could
                    # wake it and its memory is used up, so it has run out of memory.
                    self._fail(self._caught_limit("memory_bytes", ""))
                    continue
                task.wakeup = trio.Event()
                await task.wakeup.wait()
        finally:
            _nesting.reset(token)
            task.serving = False
            for item in queue:  # made just before the task ended: they still run
                nursery.start_soon(self._run_op, *item[:6])
            queue.clear()

    def _dispatch(
        self, rid: int, tid: int, op: str, args: list[Any], alone: bool, only: bool = False
    ) -> None:
        """Start the request ``rid`` of script task ``tid``: in the task's own serving loop when
        it is the task's only request (``alone``) and the loop is free, else as a trio task.
        ``only``: the outbox held nothing else (see :meth:`_flush`)."""
        if op == "print":
            self._print(args)
            return
        task = self.tasks.get(tid)
        holder = task if task is not None and task.nursery is not None else self._orphans
        nursery = holder.nursery if holder.nursery is not None else self._outer
        if nursery is None:
            log.warning("%s: %s requested after the spell ended; ignored", self.filename, op)
            return
        prev, mine = holder.last, Gate()
        holder.last = mine
        if alone and holder.serving and not holder.busy and not holder.queue:
            # Queued while its serving loop delivers the previous result (which asked for the
            # cancellation status right before) with nothing else in the outbox: no trio
            # checkpoint and no other host code ran since, so the task cannot have been
            # cancelled meanwhile -- the request skips asking again (see _execute).
            checked = only and holder.delivering
            holder.queue.append((rid, op, args, prev, mine, holder.depth, checked))
            if not holder.delivering:  # else the loop is running, not waiting
                holder.wakeup.set()
            return
        try:
            nursery.start_soon(self._run_op, rid, op, args, prev, mine, holder.depth)
        except RuntimeError:  # that nursery is closing: run it with the spell's own
            if self._outer is None:
                return
            self._outer.start_soon(self._run_op, rid, op, args, None, mine, holder.depth)

    async def _run_op(
        self, rid: int, op: str, args: list[Any], prev: Gate | None, mine: Gate, depth: int,
    ) -> None:
        token = _nesting.set(depth)
        try:
            ok, value = await self._execute(op, args, prev, mine)
        finally:
            _nesting.reset(token)
        # an operation that did not yield may end in a scope cancelled meanwhile: its task's
        # code must not resume
        await trio.lowlevel.checkpoint_if_cancelled()
        self._deliver(rid, op, ok, value)

    async def _execute(
        self, op: str, args: list[Any], prev: Gate | None, mine: Gate, checked: bool = False
    ) -> tuple[bool, Any]:
        """Run one requested host operation once ``prev`` (the task's previous one) has started
        (or ended, if it does not wait): ``(ok, result or error)``. ``mine`` opens when this one
        starts waiting or ends. ``checked``: the caller knows the trio task is not cancelled."""
        try:
            # a host operation that does not yield (a state read) would otherwise run, and its
            # result resume the task's code, even in a cancelled scope
            if not checked:
                await trio.lowlevel.checkpoint_if_cancelled()
            if prev is not None and not prev.opened:
                await prev.wait()
            hop = HOST_OPS.get(op)
            if hop is None or hop.waits:
                mine.open()
            try:
                if op == "event.on":
                    self.subscribed = True
                return True, await call_op(self.session, op, self._arguments(op, args))
            except LlmspellError as err:
                return False, err
            except Exception as exc:  # a host operation's bug: reject, do not crash the run
                log.exception("host operation %s failed", op)
                return False, LlmspellError(
                    "engine_error",
                    f"host operation {op!r} failed: {type(exc).__name__}: {exc}",
                    {"operation": op},
                )
        finally:
            mine.open()

    def _deliver(self, rid: int, op: str, ok: bool, value: Any) -> None:
        if op in FIRE_AND_FORGET:
            if not ok:
                log.warning("%s: %s failed: %s", self.filename, op, value)
            return
        if self.dead:
            return
        plain = False
        if ok:
            if value is None:
                payload, plain = "null", True
            else:
                try:
                    payload = dumps(value, "result")
                    plain = type(value) in _PRIMITIVES
                except LlmspellError as err:
                    ok, value = False, err
        if not ok:
            failure = value if isinstance(value, LlmspellError) else LlmspellError(
                "engine_error", str(value)
            )
            payload = json.dumps(_error_dict(failure))
        # settling with a primitive runs no code of the spell (see the prelude's settle)
        self._slice(self._settle, rid, ok, payload, plain, trusted=plain)

    def _arguments(self, op: str, args: Any) -> list[Any]:
        """The Python arguments of ``op``; a parameter of kind ``function`` must get one."""
        if not isinstance(args, list):  # e.g. a spell that redefined Array.prototype.toJSON
            raise LlmspellError(
                "invalid_args", f"{op}: the arguments must be a list, got {_js_type(args)}",
                {"operation": op},
            )
        values = args  # strings and nulls (the common case) need no conversion
        for v in args:
            if type(v) is not str and v is not None:
                to_python = self._to_python
                values = [
                    v if type(v) is str or v is None else to_python(v, op) for v in args
                ]
                break
        special = _SPECIAL_OPS.get(op, _UNKNOWN)
        if special is _UNKNOWN:
            special = _special(op)
        if special is None:  # nothing more to check or mark
            return values
        if op in TASK_OPS:  # the functions become tasks of their own
            items = values[0] if values and isinstance(values[0], list) else values
            for value in items:
                if isinstance(value, JsCallback):
                    value.root = True
        for i, name in special:
            if i < len(values) and not isinstance(values[i], JsCallback):
                raise LlmspellError(
                    "invalid_args",
                    f"{op}: {name} must be a function, got {_js_type(values[i])}",
                    {"operation": op, "argument": name},
                )
        return values

    # --- values and errors ---------------------------------------------------------------------

    def _to_python(self, value: Any, where: str, callbacks: bool = True) -> Any:
        """JSON data from JS to Python: callback references become :class:`JsCallback` (or
        null in results, ``callbacks=False``), task references task handles, integers beyond
        +-2^53 an ``invalid_value`` error."""
        kind = type(value)
        if kind is int and -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return value
        if kind in _SCALARS:  # the common case first
            return value
        if kind is int:
            raise LlmspellError(
                "invalid_value",
                f"{where}: integer {value} is beyond +-2^53 and cannot cross exactly",
                {"value": str(value)},
            )
        if isinstance(value, list):
            return [self._to_python(v, where, callbacks) for v in value]
        if isinstance(value, dict):
            if FN_KEY in value and isinstance(value[FN_KEY], int):
                if not callbacks:
                    self.released.append(value[FN_KEY])
                    return None
                return JsCallback(self, value[FN_KEY], str(value.get("name") or "function"))
            if TASK_KEY in value and len(value) == 1:
                record = self._spawned.get(value[TASK_KEY])
                if record is None:
                    raise LlmspellError("invalid_args", f"{where}: unknown task", {})
                return self.session.task_ref(record)
            return {k: self._to_python(v, where, callbacks) for k, v in value.items()}
        return value

    def locate(self, stack: str) -> tuple[int, int] | None:
        """The first frame of the spell (not the prelude) in a QuickJS stack text."""
        for m in _FRAME.finditer(stack or ""):
            line = int(m.group(1))
            if line < PRELUDE_OFFSET:
                return line, int(m.group(2) or 0)
        return None

    def _import_site(self, message: str) -> tuple[int, int] | None:
        """For a failed module import (QuickJS gives its error no stack): the line of the
        spell's ``import`` of that module."""
        m = _LOAD_FAILED.match(message)
        if m is None or not self.source:
            return None
        name = re.escape(m.group(1))
        site = re.compile(
            rf"""\bimport\s*\(\s*(["'`]){name}\1|\b(?:from|import)\s*(["']){name}\2"""
        ).search(self.source)
        if site is None:
            return None
        before = self.source[: site.start()]
        return before.count("\n") + 1, site.start() - (before.rfind("\n") + 1) + 1

    def script_error(self, info: Any) -> LlmspellError:
        """The ``LlmspellError`` for an error thrown in JS (``info`` from the prelude's
        ``errorInfo``): a host error keeps its code, anything else is ``script_error``; the
        message names ``file:line``."""
        if not isinstance(info, dict):
            info = {"name": "Error", "message": str(info)}
        info = _plain(info)
        name = str(info.get("name") or "Error")
        message = str(info.get("message") or "")
        details = dict(info.get("details") or {}) if isinstance(info.get("details"), dict) else {}
        code = info.get("code")
        limit = self._limit_kind(name, message, info.get("thrown"))
        if limit is not None:
            code = "limit"
        elif code not in ERROR_CODES:
            if isinstance(code, str):
                details.setdefault("error_code", code)
            code = "script_error"
        if "where" in details:  # already located where it was first thrown
            return LlmspellError(str(code), message, details)
        where = self.filename
        loc = self.locate(str(info.get("stack") or ""))
        if loc is None:
            loc = self._import_site(message)
        if loc is not None:
            where = f"{self.filename}:{loc[0]}"
            details.setdefault("line", loc[0])
            details.setdefault("column", loc[1])
        details["where"] = where
        details.setdefault("file", self.filename)
        if limit is not None:
            details.setdefault("limit", limit)
            text = f"{where}: {self._limit_text(limit)}"
        elif info.get("code") is not None:
            text = f"{where}: {message}"
        else:
            text = f"{where}: {name}: {message}" if message else f"{where}: {name}"
        return LlmspellError(str(code), text, details)

    def _limit_kind(self, name: str, message: str, thrown: Any = None) -> str | None:
        if name == "InternalError" and message == "interrupted":
            return "cpu_seconds"
        if name == "InternalError" and message in ("", "out of memory"):
            return "memory_bytes"
        if name == "RangeError" and message == "Maximum call stack size exceeded":
            return "max_depth"
        if thrown == "null" and self._memory_high():
            # QuickJS rejects with null when it cannot even allocate the error object
            return "memory_bytes"
        return None

    def _memory_exhausted(self) -> bool:
        """Whether the context has (almost) reached its memory limit (computing the usage walks
        the heap: only for a task that has nothing left to wait for)."""
        if not self.memory_limit or self.ctx is None:
            return False
        used = self.ctx.memory().get("malloc_size", 0)
        return bool(used + EXHAUSTED_SLACK >= self.memory_limit)

    def _memory_high(self) -> bool:
        if not self.memory_limit or self.ctx is None:
            return False
        used = self.ctx.memory().get("malloc_size", 0)
        return bool(used >= self.memory_limit * 0.5)

    def _limit_text(self, limit: str) -> str:
        if limit == "cpu_seconds":
            return f"the spell used more than its CPU limit of {self.cpu_limit} s (cpu_seconds)"
        if limit == "memory_bytes":
            return (
                f"the spell ran out of memory: its limit is {self.memory_limit} bytes "
                "(memory_bytes)"
            )
        return f"the spell's calls nested too deeply: its limit is {self.max_depth} (max_depth)"

    def _wall_error(self, located: dict[str, Any] | None = None) -> LlmspellError:
        """The run's wall time ran out while JS was running (a busy loop)."""
        details = {k: v for k, v in (located or {}).items() if k in ("file", "line", "column")}
        where = f"{self.filename}:{details['line']}" if "line" in details else self.filename
        details.update(
            {"limit": "wall_seconds", "value": self.wall_seconds, "file": self.filename,
             "where": where}
        )
        return LlmspellError(
            "limit",
            f"{where}: the spell ran longer than its wall-time limit of {self.wall_seconds} s "
            "(wall_seconds)",
            details,
        )

    def _cpu_error(self) -> LlmspellError:
        return LlmspellError(
            "limit",
            f"{self.filename}: {self._limit_text('cpu_seconds')}",
            {"limit": "cpu_seconds", "value": self.cpu_limit, "file": self.filename},
        )

    def _caught_limit(self, kind: str, stack: str) -> LlmspellError:
        """A limit error (``max_depth``, ``memory_bytes``) that a catch clause or a rejection
        handler of the spell received: it ends the spell anyway."""
        name, message = (
            ("RangeError", "Maximum call stack size exceeded") if kind == "max_depth"
            else ("InternalError", "out of memory")
        )
        return self._js_failure(quickjs.JSException(f"{name}: {message}\n{stack}"))

    def _js_failure(self, exc: quickjs.JSException) -> LlmspellError:
        """An exception escaping a call into JS: a limit, or a syntax/load error of the spell."""
        text = str(exc)
        head = text.split("\n", 1)[0]
        name, _, message = head.partition(": ")
        if isinstance(exc, quickjs.StackOverflow):
            name, message = "RangeError", "Maximum call stack size exceeded"
        elif head.strip() in ("null", "InternalError"):
            # an exception QuickJS could not even allocate: out of memory
            name, message = "InternalError", "out of memory"
        err = self.script_error({"name": name, "message": message, "stack": text})
        if err.code == "limit":
            err.details["value"] = {
                "cpu_seconds": self.cpu_limit,
                "memory_bytes": self.memory_limit,
                "max_depth": self.max_depth,
            }.get(err.details.get("limit", ""))
        return err


class _CpuExhausted(Exception):
    pass


_SCALARS = frozenset({str, float, bool, type(None)})
#: results that settle a promise with a JS primitive
_PRIMITIVES = frozenset({str, int, float, bool})
#: op -> its function parameters (see _special)
_SPECIAL_OPS: dict[str, tuple[tuple[int, str], ...] | None] = {}
_UNKNOWN: Any = object()


def _special(op: str) -> tuple[tuple[int, str], ...] | None:
    """``(position, name)`` of the parameters of ``op`` that take a function, or ``None`` when
    there are none and ``op`` is not one of TASK_OPS (cached for the operations of the
    table)."""
    hop = HOST_OPS.get(op)
    params = hop.params if hop is not None else ()
    found: tuple[tuple[int, str], ...] | None = tuple(
        (i, p.name) for i, p in enumerate(params) if p.kind == "function"
    )
    if not found and op not in TASK_OPS:
        found = None
    if hop is not None:
        _SPECIAL_OPS[op] = found
    return found


#: the outcome of a script task woken because the engine stopped
_STOPPED = object()


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _plain(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INT:
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _error_dict(err: LlmspellError) -> dict[str, Any]:
    try:
        check_json(err.details)
        details = err.details
    except LlmspellError:
        details = json.loads(json.dumps(err.details, default=str))
    return {"code": err.code, "message": err.message, "details": details}


#: an identifier-like word: ASCII letters, ``_``, ``$``, ``\\`` (escapes), digits after the first
#: character, and any non-ASCII character. Written as negated ASCII classes: the positive class
#: with the range U+0080-U+10FFFF took 15-20 ms to compile, at the first JavaScript run.
_IDENT = re.compile(r"[^\x00-#%-@\[\]^`{-\x7f][^\x00-#%-/:-@\[\]^`{-\x7f]*")
#: after these tokens a ``/`` starts a regular expression, not a division
_REGEX_AFTER = frozenset("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = frozenset(
    {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
     "do", "else", "yield", "await"}
)
CAUGHT = "__llmspell.caught"


def guard_catches(source: str) -> str:
    """``source`` with a call of the prelude's ``__llmspell.caught(error)`` at the start of
    every ``catch`` clause (and a catch clause that only does that and rethrows in front of the
    ``finally`` of a ``try`` without one), so that a limit (stack overflow, out of memory) can
    be caught by nothing in the spell. Strings, template literals, comments and regular
    expressions are skipped; the inserted text has no newline, so line numbers stay the
    same."""
    if "catch" not in source and "finally" not in source:
        return source
    out: list[str] = []
    i, n = 0, len(source)
    last = ""  # the last significant token (to tell a regex from a division)
    templates: list[int] = []  # brace depth at each open `${` of a template literal
    depth = 0
    copied = 0
    try_next = False  # the next `{` opens a try block
    try_blocks: list[int] = []  # brace depth outside each open try block
    clause: dict[int, str] = {}  # brace depth -> "try"/"catch": the try statement's last clause

    def skip_space(j: int) -> int:
        while j < n:
            if source[j].isspace():
                j += 1
            elif source.startswith("//", j):
                nl = source.find("\n", j)
                j = n if nl < 0 else nl
            elif source.startswith("/*", j):
                end = source.find("*/", j + 2)
                j = n if end < 0 else end + 2
            else:
                break
        return j

    def skip_template(j: int) -> int:
        """From inside a template literal to its end (``j`` after the closing backtick) or
        into a ``${`` (pushed on ``templates``)."""
        nonlocal depth
        while j < n:
            c = source[j]
            if c == "\\":
                j += 2
            elif c == "`":
                return j + 1
            elif c == "$" and source.startswith("${", j):
                templates.append(depth)
                depth += 1
                return j + 2
            else:
                j += 1
        return j

    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
            continue
        if source.startswith("//", i) or source.startswith("/*", i):
            i = skip_space(i)
            continue
        if c in "\"'":
            j = i + 1
            while j < n and source[j] != c and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            i, last = j + 1, "str"
            continue
        if c == "`":
            i, last = skip_template(i + 1), "str"
            continue
        if c == "/" and (last == "" or last in _REGEX_AFTER or last in _REGEX_KEYWORDS):
            j, in_class = i + 1, False
            while j < n and source[j] != "\n":
                ch = source[j]
                if ch == "\\":
                    j += 2
                    continue
                if ch == "[":
                    in_class = True
                elif ch == "]":
                    in_class = False
                elif ch == "/" and not in_class:
                    break
                j += 1
            i, last = j + 1, "regex"
            continue
        if c == "{":
            if try_next:
                try_blocks.append(depth)
                try_next = False
            depth += 1
        elif c == "}":
            depth -= 1
            if try_blocks and try_blocks[-1] == depth:
                try_blocks.pop()
                clause[depth] = "try"
            if templates and depth == templates[-1]:
                templates.pop()
                i, last = skip_template(i + 1), "str"
                continue
        m = _IDENT.match(source, i)
        if m is None:
            i, last = i + 1, c
            continue
        word = m.group(0)
        start = i
        i = m.end()
        if last == "." or word not in ("catch", "try", "finally"):
            last = word
            continue
        last = word
        opens = (j := skip_space(i)) < n and source[j] == "{"
        if word == "try":
            try_next = opens
            continue
        if word == "finally":
            # try/finally: a limit runs no finally block either (a catch clause rethrows it)
            if clause.pop(depth, None) == "try" and opens:
                out.append(source[copied:start])
                out.append(f"catch (__llmspell_e) {{{CAUGHT}(__llmspell_e); throw __llmspell_e}} ")
                copied = start
            continue
        clause[depth] = "catch"
        if opens:  # catch { ... }
            out.append(source[copied:i])
            out.append(f" (__llmspell_e){source[i:j]}{{{CAUGHT}(__llmspell_e);")
            copied = i = j + 1
            depth += 1
            last = "{"
            continue
        if j >= n or source[j] != "(":
            continue
        # the binding: up to the matching parenthesis (a destructuring pattern may nest)
        k, level = j + 1, 1
        while k < n and level:
            if source[k] in "([{":
                level += 1
            elif source[k] in ")]}":
                level -= 1
            k += 1
        binding = source[j + 1 : k - 1].strip()
        b = skip_space(k)
        if b >= n or source[b] != "{":
            continue
        out.append(source[copied:j])
        if _IDENT.fullmatch(binding):
            out.append(f"{source[j:b + 1]}{CAUGHT}({binding});")
        else:  # a pattern: bind the error first, then destructure it (same line count)
            lines = "\n" * (source[j : b + 1].count("\n") - binding.count("\n"))
            out.append(f"(__llmspell_e){lines} {{{CAUGHT}(__llmspell_e); let {binding} = "
                       "__llmspell_e;")
        copied = i = b + 1
        depth += 1
        last = "{"
    if not out:
        return source
    out.append(source[copied:])
    return "".join(out)


_LEXICAL = re.compile(r"^([ \t]*)(?:let|const)[ \t]+(?=[A-Za-z_$\[{])", re.M)
_CLASS = re.compile(r"^([ \t]*)class[ \t]+([A-Za-z_$][\w$]*)", re.M)
_AWAITED = re.compile(r"^([ \t]*)(?:let|const|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*=", re.M)


def repl_sources(source: str) -> tuple[str, str]:
    """REPL input as a global script whose top-level declarations persist: ``let``/``const``
    at the start of a line become ``var``, ``class X`` becomes ``var X = class X``; and the
    variant for input with top-level ``await`` (run in an async function), where
    ``let x = ...`` becomes the global assignment ``x = ...``."""
    script = _CLASS.sub(r"\1var \2 = class \2", _LEXICAL.sub(r"\1var ", source))
    return script, _AWAITED.sub(r"\1\2 =", source)


def is_complete(source: str) -> bool:
    """False while ``source`` has an open bracket, template literal, string or block comment
    (the REPL then asks for another line)."""
    depth = 0
    i, n = 0, len(source)
    closers: list[str] = []
    while i < n:
        c = source[i]
        if c in "\"'":
            j = i + 1
            while j < n and source[j] != c and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            if j >= n:
                return False
            i = j + 1
            continue
        if c == "`":
            j = i + 1
            while j < n and source[j] != "`":
                j += 2 if source[j] == "\\" else 1
            if j >= n:
                return False
            i = j + 1
            continue
        if source.startswith("//", i):
            nl = source.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                return False
            i = end + 2
            continue
        if c in "([{":
            closers.append(c)
            depth += 1
        elif c in ")]}" and closers:
            closers.pop()
            depth -= 1
        i += 1
    stripped = source.rstrip()
    return depth <= 0 and not stripped.endswith(("\\", ",", "=", "+", "-", "*", "&&", "||", "."))


class JsRepl:
    """An interactive JavaScript session (``llmspell repl --engine js``): every input runs as a
    script in one context, so globals persist (``let``/``const``/``function``/``class`` at top
    level included); the value of an expression is returned (awaited if it is a promise). An
    input with top-level ``await`` runs in an async function: its value is kept, its
    declarations are local to it (``x = await f()`` assigns a global). Each input has the CPU
    budget of a spell; after a limit the next input starts on a fresh context."""

    def __init__(self, session: ScriptSession) -> None:
        self.session = session
        self.bridge = self._new_bridge()

    def _new_bridge(self) -> JsBridge:
        bridge = JsBridge(self.session, self.session.filename, self.session.run.policy.limits)
        bridge._slice(bridge._init, dumps(self.session.run.args, "args"))
        return bridge

    def is_complete(self, source: str) -> bool:
        return is_complete(source)

    async def evaluate(self, source: str) -> Any:
        if self.bridge.dead:
            self.bridge.close()
            self.bridge = self._new_bridge()
        self.bridge.cpu_used = 0.0
        return await self.bridge.evaluate(source)


@attrs.define
class JsEngine:
    """The ``js`` engine. ``output`` receives ``print`` lines (default: stdout)."""

    name: str = "js"
    extensions: tuple[str, ...] = (".js", ".mjs")
    output: Callable[[str], None] | None = None

    def repl(self, session: ScriptSession) -> JsRepl:
        """An interactive session on a new context (``llmspell repl --engine js``)."""
        return JsRepl(session)

    async def run(self, source: str, filename: str, run: SpellRun) -> Any:
        """Run ``source`` as an ES module; return its ``export default`` value."""
        if self.output is not None:
            session = ScriptSession(run, filename, output=self.output)
        else:
            session = ScriptSession(run, filename)
        bridge = JsBridge(session, filename, run.policy.limits)
        if run.policy.limits.wall_seconds:
            bridge.wall_deadline = time.perf_counter() + float(run.policy.limits.wall_seconds)
        try:
            result = await bridge.run(source)
        except BaseException:
            bridge.close()
            raise
        finally:
            session.close()
        # With event handlers, the context stays usable while the run is open: events the spell
        # emitted that are still buffered for its handlers are delivered after this returns (the
        # run's nursery waits for them); it is freed with the last callback that refers to it.
        if not bridge.subscribed:
            bridge.close()
        return result
