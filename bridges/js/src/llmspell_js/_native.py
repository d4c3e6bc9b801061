"""The prelude as QuickJS bytecode: compiled once per process, loaded into every new context.

The ``quickjs`` binding (``quickjs-ng``) only evaluates source text, and compiling the prelude
costs more than a whole Lua run (about 1.3 ms: QuickJS compiles every function eagerly). Its
extension module links QuickJS statically and exports the whole C API, so this module reaches
the three calls the binding does not expose -- ``JS_Eval`` with ``JS_EVAL_FLAG_COMPILE_ONLY``,
``JS_WriteObject``/``JS_ReadObject`` and ``JS_EvalFunction`` -- through :mod:`ctypes`, on the
``JSContext`` of a :class:`quickjs.Context`. Loading the bytecode and running it takes about a
tenth of compiling. (It also reaches ``JS_IsJobPending``, see :class:`Boot`.)

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
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
from collections.abc import Callable
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
    "JS_IsJobPending": (ctypes.c_bool, [_P]),  # a C bool
}


@attrs.frozen
class Boot:
    """The prelude run in a new context."""

    #: the prelude's bytecode (to boot the next context from)
    code: bytes
    #: the prelude's completion value (the lookup of its driver functions)
    driver: Any
    #: whether the context has a pending job (a promise reaction to run): unlike
    #: ``execute_pending_job`` it neither enters JS nor, with a time limit set, reads the
    #: process CPU clock (a system call). Only valid while the context lives.
    job_pending: Callable[[], bool]


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
        return Boot(code, result, functools.partial(lib.JS_IsJobPending, runtime))


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
