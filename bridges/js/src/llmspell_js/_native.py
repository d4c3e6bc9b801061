"""The prelude as QuickJS bytecode: compiled once per process, loaded into every new context.

The ``quickjs`` binding (``quickjs-ng``) only evaluates source text, and compiling the prelude
costs more than a whole Lua run (about 1.3 ms: QuickJS compiles every function eagerly). Its
extension module links QuickJS statically and exports the whole C API, so this module reaches
the three calls the binding does not expose -- ``JS_Eval`` with ``JS_EVAL_FLAG_COMPILE_ONLY``,
``JS_WriteObject``/``JS_ReadObject`` and ``JS_EvalFunction`` -- through :mod:`ctypes`, on the
``JSContext`` of a :class:`quickjs.Context`. Loading the bytecode and running it takes about a
tenth of compiling. It also installs the context's interrupt handler (``JS_SetInterruptHandler``),
which enforces the limits of each slice in place of the binding's time limit (see
:class:`SliceGuard`).

Contracts:

- Only bytecode this process compiled from the prelude's own source is ever loaded (it is kept
  in memory, never read from a file); a spell can load no bytecode at all.
- Everything here runs on the thread that uses the context, while no other call into it is in
  progress (the engine's rule for every QuickJS call), and holds the GIL (``ctypes.PyDLL``):
  the prelude never calls into Python.
- The binding's ``Context`` object is read at the layout of its C struct (``PyObject_HEAD``,
  then the ``JSRuntime *`` and ``JSContext *``). :func:`loader` checks that layout before the
  first use -- the struct's size, that the ``JSContext`` belongs to that ``JSRuntime`` and that
  the runtime's opaque pointer is the ``Context`` object itself -- and returns ``None`` if any
  check fails (another interpreter, a 32-bit build, another binding version): the engine then
  evaluates the prelude's source as before. The same happens if loading ever fails.
- The interrupt handler is one Python function for the whole process (a ctypes callback that
  lives as long as the module, so no runtime can call a freed one); QuickJS calls it on the
  thread running the JS, and ctypes takes the GIL for it (the binding releases the GIL while JS
  runs). It finds the context's :class:`SliceGuard` by a number, not a pointer, and never
  raises.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import sys
import time
import weakref
from typing import Any

import attrs
import quickjs

log = logging.getLogger("llmspell.js")

JS_TAG_EXCEPTION = 6
JS_EVAL_TYPE_GLOBAL = 0
JS_EVAL_FLAG_COMPILE_ONLY = 1 << 5
JS_WRITE_OBJ_BYTECODE = 1 << 0
JS_WRITE_OBJ_STRIP_SOURCE = 1 << 4
JS_READ_OBJ_BYTECODE = 1 << 0
#: The prelude's functions keep their names and line numbers (the engine tells the prelude's
#: stack frames from the spell's by their line); their source text is left out, so the
#: ``toString()`` of an API function is that of a native one.
WRITE_FLAGS = JS_WRITE_OBJ_BYTECODE | JS_WRITE_OBJ_STRIP_SOURCE
#: the global the prelude's completion value is parked under for the binding to fetch it (it is
#: deleted before any spell code runs)
BOOT_GLOBAL = "__llmspell_boot"


class JSValue(ctypes.Structure):
    """QuickJS's ``JSValue`` on 64-bit platforms (no NaN boxing): a union and a tag."""

    _fields_ = [("u", ctypes.c_uint64), ("tag", ctypes.c_int64)]


class _RuntimeData(ctypes.Structure):
    """The binding's ``_quickjs.Context`` object (``RuntimeData`` in its ``module.c``)."""

    _fields_ = [
        ("ob_refcnt", ctypes.c_ssize_t),
        ("ob_type", ctypes.c_void_p),
        ("runtime", ctypes.c_void_p),
        ("context", ctypes.c_void_p),
        ("has_time_limit", ctypes.c_int),
        ("time_limit", ctypes.c_long),  # clock_t
        ("thread_state", ctypes.c_void_p),
        ("interrupt_start", ctypes.c_long),
        ("interrupt_limit", ctypes.c_long),
        ("python_callables", ctypes.c_void_p),
    ]


_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "JS_GetRuntime": (_P, [_P]),
    "JS_GetRuntimeOpaque": (_P, [_P]),
    "JS_UpdateStackTop": (None, [_P]),
    "JS_Eval": (JSValue, [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int]),
    "JS_WriteObject": (_P, [_P, ctypes.POINTER(ctypes.c_size_t), JSValue, ctypes.c_int]),
    "JS_ReadObject": (JSValue, [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]),
    "JS_EvalFunction": (JSValue, [_P, JSValue]),
    "JS_GetException": (JSValue, [_P]),
    "JS_FreeValue": (None, [_P, JSValue]),
    "JS_GetGlobalObject": (JSValue, [_P]),
    "JS_SetPropertyStr": (ctypes.c_int, [_P, JSValue, ctypes.c_char_p, JSValue]),
    "JS_NewAtom": (ctypes.c_uint32, [_P, ctypes.c_char_p]),
    "JS_DeleteProperty": (ctypes.c_int, [_P, JSValue, ctypes.c_uint32, ctypes.c_int]),
    "JS_FreeAtom": (None, [_P, ctypes.c_uint32]),
    "js_free": (None, [_P, _P]),
    "JS_SetInterruptHandler": (None, [_P, _P, _P]),
}

#: ``int handler(JSRuntime *rt, void *opaque)``: nonzero interrupts the running JS
INTERRUPT_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


class SliceGuard:
    """The budget of the slice running in one context, checked by QuickJS's interrupt handler.

    The binding's own time limit (``set_time_limit``) reads the process CPU clock -- a system
    call, about 1 µs -- at the start of every call into JS made with a limit, and the engine
    had to read the thread's CPU clock before and after every slice: some 3 µs of a host call
    that answers at once. Instead, :meth:`Native.guard` installs one interrupt handler for the
    context's runtime (QuickJS calls it every few thousand instructions, from loops, calls and
    regular expressions alike) and the engine :meth:`arm`-s the guard for each slice -- a few
    attribute stores and a read of the monotonic clock. A slice is charged its wall time (never
    less than the CPU time the thread used over the same stretch: the safe side); once the
    handler has run during a slice, that is a slice long enough to be worth measuring, and from
    then on it is measured on the thread's CPU clock (the wall time before that first check
    counted as CPU time), so a long computation on a busy machine is charged its CPU time, not
    its wall time. The handler interrupts the JS (an uncatchable ``InternalError:
    interrupted``, as with the binding's limit) when the slice has used the CPU time it was
    given (``cpu_left``) or the wall clock reached ``wall_deadline``; ``hit`` then says which.

    A signal handler's exception (``KeyboardInterrupt``: Ctrl-C) raised while the handler runs
    is kept in :data:`SIGNALS` and, during a slice, interrupts the JS (``hit`` is
    ``"signal"``): the engine raises it once the call into JS has returned.

    The binding's ``set_time_limit`` must never be given a limit on a guarded context: its
    calls would replace the handler and remove it afterwards.
    """

    __slots__ = ("__weakref__", "active", "cpu0", "cpu_left", "hit", "start", "wall_deadline")

    def __init__(self) -> None:
        self.active = False
        self.start = 0.0
        self.cpu_left: float | None = None
        self.wall_deadline: float | None = None
        #: the thread's CPU clock at the start of the slice (estimated; None: not read yet)
        self.cpu0: float | None = None
        #: the limit the handler interrupted for: "cpu" or "wall" (None: it did not)
        self.hit: str | None = None

    def arm(self, start: float, cpu_left: float | None, wall_deadline: float | None) -> None:
        """Guard the slice starting at ``start`` (``time.perf_counter()``)."""
        self.start = start
        self.cpu_left = cpu_left
        self.wall_deadline = wall_deadline
        self.cpu0 = None
        self.hit = None
        self.active = True

    def disarm(self) -> float:
        """End the slice; the CPU time to charge it (see the class docs)."""
        self.active = False
        if self.cpu0 is None:
            return time.perf_counter() - self.start
        return time.thread_time() - self.cpu0

    def check(self) -> int:
        """The interrupt handler's decision: 1 to interrupt the running JS."""
        now = time.perf_counter()
        if self.wall_deadline is not None and now >= self.wall_deadline:
            self.hit = "wall"
            return 1
        if self.cpu_left is not None:
            cpu = time.thread_time()
            if self.cpu0 is None:
                self.cpu0 = cpu - (now - self.start)
            if cpu - self.cpu0 >= self.cpu_left:
                self.hit = "cpu"
                return 1
        return 0


#: the guards of the live contexts, by the key passed to the interrupt handler as its opaque
#: pointer (a number, not a pointer to anything: a guard that is gone is simply not found)
_GUARDS: weakref.WeakValueDictionary[int, SliceGuard] = weakref.WeakValueDictionary()
_guard_keys = itertools.count(1)


#: exceptions of signal handlers that ran inside the interrupt handler (Ctrl-C's
#: KeyboardInterrupt), to be raised by the engine once the call into JS has returned
SIGNALS: list[BaseException] = []


def _interrupt(runtime: int | None, key: int | None) -> int:
    """The interrupt handler of every guarded runtime (it must never raise)."""
    guard = None
    try:
        guard = _GUARDS.get(key or 0)
        if guard is None or not guard.active:
            return 0
        if SIGNALS:  # one arrived (see unraisable): stop the JS, the engine raises it
            guard.hit = "signal"
            return 1
        return guard.check()
    except Exception:  # a bug here must not end the process: no limit this time
        return 0
    except BaseException as exc:  # a signal handler's exception raised in here
        SIGNALS.append(exc)
        if guard is not None and guard.active:
            guard.hit = "signal"
            return 1
        return 0


def unraisable(info: Any) -> None:
    """``sys.unraisablehook`` while a guarded slice runs (the engine installs it around the
    call into JS): a signal handler can also run as the interrupt handler is entered, before
    it can catch anything, and ctypes then reports the exception as unraisable -- it is kept in
    :data:`SIGNALS` instead of being printed and lost. Everything else goes to the hook that
    was installed before (:data:`previous_unraisable`)."""
    if info.object is _interrupt and isinstance(info.exc_value, BaseException) and not (
        isinstance(info.exc_value, Exception)
    ):
        SIGNALS.append(info.exc_value)
        return
    previous_unraisable[0](info)


#: the hook :func:`unraisable` hands everything else to (set by the engine at each slice)
previous_unraisable: list[Any] = [sys.__unraisablehook__]


#: one C function pointer for the life of the process: no runtime can outlive it
_INTERRUPT = INTERRUPT_HANDLER(_interrupt)
_INTERRUPT_ADDRESS = ctypes.cast(_INTERRUPT, ctypes.c_void_p).value


@attrs.frozen
class Boot:
    """The prelude run in a new context."""

    #: the prelude's bytecode (to boot the next context from)
    code: bytes
    #: the prelude's completion value (the lookup of its driver functions)
    driver: Any
    #: the guard of the context's slices (see :class:`SliceGuard`)
    guard: SliceGuard


class LoadError(Exception):
    """QuickJS refused to compile, write, read or run the prelude's bytecode."""


class Native:
    """The C functions of the binding's QuickJS, bound with their signatures."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes

    def pointers(self, ctx: quickjs.Context) -> tuple[int, int]:
        """``(JSRuntime *, JSContext *)`` of ``ctx``; :class:`LoadError` unless they check out."""
        data = _RuntimeData.from_address(id(ctx))
        runtime, context = data.runtime, data.context
        if not runtime or not context or self.lib.JS_GetRuntime(context) != runtime:
            raise LoadError("the binding's Context does not have the expected layout")
        if self.lib.JS_GetRuntimeOpaque(runtime) != id(ctx):
            raise LoadError("the binding's Context does not have the expected layout")
        return runtime, context

    def _fail(self, context: int, what: str) -> LoadError:
        """Clear the pending JS exception; the error to raise."""
        self.lib.JS_FreeValue(context, self.lib.JS_GetException(context))
        return LoadError(f"QuickJS failed to {what} the prelude")

    def _check(self, context: int, value: JSValue, what: str) -> JSValue:
        if value.tag == JS_TAG_EXCEPTION:
            raise self._fail(context, what)
        return value

    def boot(self, ctx: quickjs.Context, source: str, code: bytes | None) -> Boot:
        """Run the prelude in the new context ``ctx``: from ``code`` (bytecode an earlier
        :meth:`boot` returned) or else compiled from ``source`` (a script named ``<input>``,
        like ``Context.eval`` compiles it)."""
        lib = self.lib
        runtime, context = self.pointers(ctx)
        lib.JS_UpdateStackTop(runtime)
        if code is None:
            text = source.encode("utf-8")
            fn = self._check(
                context,
                lib.JS_Eval(context, text, len(text), b"<input>",
                            JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY),
                "compile",
            )
            size = ctypes.c_size_t()
            buf = lib.JS_WriteObject(context, ctypes.byref(size), fn, WRITE_FLAGS)
            if not buf:
                lib.JS_FreeValue(context, fn)
                raise self._fail(context, "write")
            code = ctypes.string_at(buf, size.value)
            lib.js_free(context, buf)
            lib.JS_FreeValue(context, fn)
        # every context runs the same bytecode (the first one too)
        fn = self._check(
            context, lib.JS_ReadObject(context, code, len(code), JS_READ_OBJ_BYTECODE), "read"
        )
        value = self._check(context, lib.JS_EvalFunction(context, fn), "run")  # frees fn
        # only the binding turns a JSValue into a Python object: park it on a global for
        # Context.get, then remove the global again (before any code of a spell runs)
        glob = lib.JS_GetGlobalObject(context)
        name = BOOT_GLOBAL.encode()
        try:
            if lib.JS_SetPropertyStr(context, glob, name, value) < 0:  # takes value
                raise self._fail(context, "hand over")
            result = ctx.get(BOOT_GLOBAL)
            atom = lib.JS_NewAtom(context, name)
            deleted = lib.JS_DeleteProperty(context, glob, atom, 0)
            lib.JS_FreeAtom(context, atom)
            if deleted != 1:
                raise self._fail(context, "hand over")
        finally:
            lib.JS_FreeValue(context, glob)
        return Boot(code, result, self.guard(runtime))

    def guard(self, runtime: int) -> SliceGuard:
        """Install the interrupt handler on ``runtime``; the guard it checks."""
        guard = SliceGuard()
        key = next(_guard_keys)
        _GUARDS[key] = guard
        self.lib.JS_SetInterruptHandler(runtime, _INTERRUPT_ADDRESS, key)
        return guard


def loader() -> Native | None:
    """The native calls, if this interpreter and binding are the ones they were written for
    (checked on a scratch context); else ``None``."""
    if sys.implementation.name != "cpython" or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    context_type: Any = quickjs.Context
    if context_type.__basicsize__ != ctypes.sizeof(_RuntimeData):
        return None
    try:
        module = sys.modules[context_type.__module__]
        native = Native(ctypes.PyDLL(module.__file__))
        native.pointers(quickjs.Context())
    except (AttributeError, KeyError, OSError, TypeError, LoadError) as exc:
        log.debug("the JS prelude is compiled from source in every context: %s", exc)
        return None
    return native
