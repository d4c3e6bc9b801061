"""The Lua bridge: a sandboxed ``lupa.lua54`` runtime per spell and the trio driver.

Every script task (the main chunk, a spawned task, a callback invoked by the host) is a Lua
coroutine driven by one trio task: :meth:`LuaBridge.drive` resumes it for one slice; when it
yields a bridge request the driver runs the host operation (:func:`call_op`) in the current trio
task and resumes the coroutine with ``(true, value)`` or ``(false, error_table)``. A cancelled
trio task simply stops driving its coroutine, so no script code of a cancelled task ever runs
again (not even ``pcall`` handlers), and cancellation reaches the in-flight host operation.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import lupa.lua54 as lupa
import trio

from llmspell.errors import ERROR_CODES, LlmspellError
from llmspell.runtime import SpellRun
from llmspell.scripting.hostops import HOST_OPS, call_op
from llmspell.scripting.session import ScriptSession
from llmspell_lua.convert import Converter

#: Instructions between two runs of the limit hook (CPU time and call depth checks).
HOOK_COUNT = 1000
#: Host operations run between two forced trio checkpoints when none of them waited.
CHECKPOINT_EVERY = 64
#: Deepest nesting of script functions called by the host from script code called by the host
#: (a script tool calling itself through ``Tool.call`` ...); past it, or past ``max_depth``, the
#: spell ends with code ``limit`` (``max_depth``) before Python's own recursion limit is reached.
MAX_CALLBACK_NESTING = 40

#: (trio task, nesting) of the innermost script call; a new trio task starts again at 0
_nesting: contextvars.ContextVar[tuple[Any, int]] = contextvars.ContextVar(
    "llmspell_lua_nesting", default=(None, 0)
)


def _read_prelude() -> str:
    """``prelude.lua`` next to this module, as text: read through the module's loader (what
    importlib.resources does for a package on disk or in a zip file, without importing
    importlib.resources at start-up), or from the file when the module has no loader (a copy
    made by llmspell_lua51)."""
    path = os.path.join(os.path.dirname(__file__), "prelude.lua")
    loader = globals().get("__loader__")
    if loader is not None and hasattr(loader, "get_data"):
        text = loader.get_data(path).decode("utf-8")
        return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    with open(path, encoding="utf-8") as fh:
        return fh.read()


PRELUDE = _read_prelude()

_LIMIT_TEXT = {
    "cpu_seconds": "CPU time limit of {} s",
    "memory_bytes": "memory limit of {} bytes",
    "max_depth": "call depth limit of {}",
    "wall_seconds": "wall-time limit of {} s",
}


@functools.cache
def _function_params(op: str) -> frozenset[int]:
    """Positions of ``op``'s parameters that may hold script functions: parameters of kind
    ``function``, and the specs/lists of workflow and ``task.all``/``task.race`` operations."""
    hop = HOST_OPS.get(op)
    if hop is None:  # unknown: let call_op report it as not_found
        return frozenset(range(32))
    container = op.startswith("workflow.") or op in ("task.all", "task.race")
    return frozenset(
        i
        for i, p in enumerate(hop.params)
        if p.kind == "function" or (container and p.kind in ("object", "array", "any"))
    )


_NO_FUNCTIONS: frozenset[int] = frozenset()


@functools.cache
def prelude_bytecode(source: str) -> bytes:
    """The prelude compiled once per process, in a throwaway runtime of the same Lua: every
    spell's runtime loads this trusted bytecode instead of compiling the source again (about
    three quarters of a new runtime's set-up). Spells themselves may load text chunks only."""
    lua = lupa.LuaRuntime(register_eval=False, register_builtins=False, encoding=None)
    dump = lua.eval(
        "function(src) return string.dump(assert(load(src, '=[llmspell prelude]', 't'))) end"
    )
    return bytes(dump(source.encode("utf-8")))


def _refuse(obj: Any, name: Any, is_setting: bool) -> Any:
    """The attribute filter: Lua code never reaches a Python attribute."""
    raise AttributeError("access to Python attributes is not allowed in spells")


class LuaCallback:
    """A Lua function handed to the host (tool, hook, event handler, task, workflow step).

    Calling it runs the function in a new coroutine driven by the calling trio task, so it can
    wait on host operations while other script tasks wait too."""

    def __init__(self, bridge: LuaBridge, fn: Any) -> None:
        self.bridge = bridge
        self.fn = fn
        self.name = str(bridge.driver.describe(fn))

    async def __call__(self, *args: Any) -> Any:
        return await self.bridge.call(self.fn, args)

    def __repr__(self) -> str:
        return f"<Lua function {self.name}>"


class LuaBridge:
    """One spell's Lua runtime, prelude and driver."""

    def __init__(self, session: ScriptSession) -> None:
        self.session = session
        self.run: SpellRun = session.run
        self.filename = session.filename
        self.limits = self.run.policy.limits
        self.limit_error: LlmspellError | None = None
        self.main_scope: trio.CancelScope | None = None
        self._errors: OrderedDict[str, tuple[Any, LlmspellError]] = OrderedDict()
        self._ops = 0
        try:
            self._setup()
        except lupa.LuaMemoryError:
            raise self.hit_limit("memory_bytes") from None

    # --- set-up --------------------------------------------------------------------------------

    def _setup(self) -> None:
        memory = self.limits.memory_bytes
        self.lua = lupa.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_refuse,
            max_memory=int(memory) if memory else None,
        )
        lua = self.lua
        loader = lua.eval(
            "function(code) return assert(load(code, '=[llmspell prelude]', 'b')) end"
        )
        setup = loader(prelude_bytecode(PRELUDE))()
        config: dict[str, Any] = {"filename": self.filename, "hook_count": HOOK_COUNT}
        if self.limits.cpu_seconds:
            config["cpu_seconds"] = float(self.limits.cpu_seconds)
        if self.limits.max_depth:
            config["max_depth"] = int(self.limits.max_depth)
        if self.limits.wall_seconds:
            # a busy loop never yields to trio, so the hook enforces the wall time too (1 s grain)
            config["wall_deadline"] = int(time.time() + float(self.limits.wall_seconds)) + 1
        self.driver = setup(lua.table_from(config))
        # nothing privileged stays reachable from the runtime's own globals either
        lua.execute(
            "python = nil; debug = nil; io = nil; os = nil; package = nil; require = nil; "
            "dofile = nil; loadfile = nil"
        )
        self._step = self.driver.step
        self.conv = Converter(self)
        self.short_src = str(self.driver.short_src())
        self.driver.set_global("args", self.conv.to_lua(self.run.args))

    # --- running -------------------------------------------------------------------------------

    def compile(self, source: str) -> Any:
        """The main chunk as a Lua function; a syntax error is ``script_error`` naming
        ``file:line``."""
        if source.startswith("#"):  # a shebang line; keep line numbers
            source = "--" + source
        try:
            out = self.driver.compile(source)
        except lupa.LuaMemoryError:
            raise self.hit_limit("memory_bytes") from None
        if isinstance(out, tuple):
            message = str(out[1])
            message, line = self._locate(message, None)
            raise LlmspellError(
                "script_error", message, {"file": self.filename, "line": line, "syntax": True}
            )
        return out

    async def run_main(self, source: str) -> Any:
        """Run the main chunk as a script task, then wait for the spell's tasks
        (:meth:`ScriptSession.finish`); returns the chunk's return value as JSON data."""
        result: Any = None
        try:
            with trio.CancelScope() as scope:
                self.main_scope = scope
                fn = self.compile(source)
                result = await self.call(fn, ())
                await self.session.finish()
        except LlmspellError:
            if self.limit_error is not None:
                raise self._limit_copy() from None
            raise
        finally:
            self.session.close()
        if self.limit_error is not None:
            raise self._limit_copy()
        return result

    async def call(self, fn: Any, args: tuple[Any, ...] | list[Any]) -> Any:
        """Run Lua function ``fn(*args)`` as a new script task in the current trio task.

        This works after the main chunk has ended too, as long as the run is open: events
        emitted by the spell and still buffered for its handlers are delivered then (the run's
        nursery waits for them)."""
        task = trio.lowlevel.current_task()
        owner, depth = _nesting.get()
        depth = depth + 1 if owner is task else 1
        if depth > min(MAX_CALLBACK_NESTING, self.limits.max_depth or MAX_CALLBACK_NESTING):
            raise self.hit_limit("max_depth")
        token = _nesting.set((task, depth))
        try:
            return await self._call(fn, args)
        finally:
            _nesting.reset(token)

    async def _call(self, fn: Any, args: tuple[Any, ...] | list[Any]) -> Any:
        try:
            co = self.driver.new_task(fn)
            values = [self.conv.to_lua(a) for a in args]
        except lupa.LuaMemoryError:
            raise self.hit_limit("memory_bytes") from None
        try:
            return await self.drive(co, values)
        finally:
            self.driver.drop(co)

    async def drive(self, co: int, values: Any) -> Any:
        """Resume the coroutine with id ``co`` until it returns, fails or its trio task is
        cancelled."""
        step = self._step
        checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
        while True:
            # a cancelled task is never resumed, even when its last operation did not wait
            await checkpoint_if_cancelled()
            if self.limit_error is not None:
                raise self._limit_copy()
            try:
                out = step(co, *values)
                if type(out) is not tuple:
                    out = (out,)
                kind = out[0]
                if kind == "request":
                    values = await self._request(out[1], out[2:])
                    continue
                if kind == "packed":
                    values = await self._request(str(out[1]), out[2])
                    continue
                return self._outcome(out)
            except lupa.LuaMemoryError:
                raise self.hit_limit("memory_bytes") from None
            except UnicodeDecodeError:  # the result of the script function (see step)
                raise LlmspellError(
                    "invalid_value",
                    f"{self.filename}: result of a script function: a Lua string is not "
                    "valid UTF-8",
                    {"file": self.filename},
                ) from None
            except lupa.LuaError as exc:
                raise LlmspellError(
                    "engine_error",
                    f"{self.filename}: the Lua engine failed: {exc}",
                    {"file": self.filename},
                ) from None

    def _outcome(self, out: tuple[Any, ...]) -> Any:
        """The result of a finished step (``done``), else raise its error."""
        kind = out[0]
        if kind == "done":
            try:
                return self.conv.to_py(out[1])
            except LlmspellError as err:
                raise LlmspellError(
                    err.code,
                    f"{self.filename}: result of a script function: {err.message}",
                    {**err.details, "file": self.filename},
                ) from None
        if kind == "error":
            raise self.script_error(out[1], out[2] if len(out) > 2 else None)
        if kind == "limit":
            raise self.hit_limit(str(out[1]))
        raise LlmspellError(
            "script_error",
            f"{self.filename}: coroutine.yield was called outside a coroutine created "
            "by the spell (use Task.sleep(0) to yield to other tasks)",
            {"file": self.filename},
        )

    async def _request(self, op: str, args: Any) -> tuple[bool, Any]:
        """Run host operation ``op`` with the Lua values ``args`` (a tuple, or a Lua table with
        ``n`` when an argument is a string that is not UTF-8); the values to resume the
        coroutine with. (A ``LuaMemoryError`` propagates to :meth:`drive`, which ends the
        spell.)"""
        failure: LlmspellError | None = None
        value: Any = None
        try:
            if type(args) is not tuple:  # "packed": read the table here, where bad UTF-8 is caught
                args = tuple(args[i] for i in range(1, int(args["n"]) + 1))
            local = _LOCAL_OPS.get(op)
            kinds = _function_params(op) if local is None else _NO_FUNCTIONS
            to_py = self.conv.to_py
            pyargs = [
                a if a is None or type(a) is str else to_py(a, functions=i in kinds)
                for i, a in enumerate(args)
            ]
            if local is not None:
                result = local(self, *pyargs)
            else:
                result = await call_op(self.session, op, pyargs)
            value = result if result is None or type(result) is str else self.conv.to_lua(result)
        except LlmspellError as err:
            failure = err
        except UnicodeDecodeError:
            failure = LlmspellError(
                "invalid_value", f"{op}: a Lua string is not valid UTF-8", {"operation": op}
            )
        except lupa.LuaMemoryError:
            raise
        except Exception as exc:
            failure = LlmspellError(
                "engine_error",
                f"host operation {op} failed: {type(exc).__name__}: {exc}",
                {"operation": op, "type": type(exc).__name__},
            )
        self._ops += 1
        if self._ops % CHECKPOINT_EVERY == 0:
            await trio.lowlevel.checkpoint()
        if failure is not None:
            return False, self.error_to_lua(failure)
        return True, value

    # --- errors and limits ---------------------------------------------------------------------

    def error_to_lua(self, err: LlmspellError) -> Any:
        """An error table ``{code, message, details}`` (with ``__tostring``) for ``err``."""
        try:
            details = self.conv.to_lua(err.details)
        except LlmspellError:
            details = self.conv.to_lua({k: repr(v) for k, v in err.details.items()})
        table = self.driver.new_error(err.code, err.message, details)
        self._errors[str(self.driver.classify(table)[1])] = (table, err)
        while len(self._errors) > 256:
            self._errors.popitem(last=False)
        return table

    def _locate(self, message: str, line: int | None) -> tuple[str, int | None]:
        """``message`` naming ``file:line`` (with the full file name) and the line."""
        prefix = re.match(re.escape(self.short_src) + r":(\d+): ", message)
        if prefix:
            line = int(prefix.group(1))
            return f"{self.filename}:{line}: {message[prefix.end() :]}", line
        if message.startswith(f"{self.filename}:"):
            return message, line
        if line is not None:
            return f"{self.filename}:{line}: {message}", line
        return f"{self.filename}: {message}", line

    def script_error(self, err: Any, line: Any) -> LlmspellError:
        """The ``LlmspellError`` for an uncaught Lua error value (from coroutine ``where``)."""
        line = int(line) if isinstance(line, int) else None
        code, hint = "script_error", None
        details: dict[str, Any] = {}
        if isinstance(err, bytes):
            err = err.decode("utf-8", "replace")
        if isinstance(err, str):
            message = err
        elif (fields := self._error_fields(err)) is not None:
            code, message, raw_details = fields
            try:
                raw = self.conv.to_py(raw_details)
                details = raw if isinstance(raw, dict) else {}
            except (LlmspellError, UnicodeDecodeError):
                details = {}
            known = self._errors.get(str(self.driver.classify(err)[1]))
            if known is not None:
                hint = known[1].hint
            if code not in ERROR_CODES:  # a spell's own error table with a code of its own
                details.setdefault("error_code", code)
                code = "script_error"
        elif err is None:
            message = "error(nil)"
        else:
            message = f"error object: {self.driver.tostring(err)}"
        message, line = self._locate(message, line)
        details.setdefault("file", self.filename)
        details.setdefault("line", line)
        return LlmspellError(code, message, details, hint=hint)

    def _error_fields(self, err: Any) -> tuple[str, str, Any] | None:
        """``(code, message, details)`` of an error table shaped like a host error (read with
        ``rawget``: no spell code runs outside the limit hook)."""
        if lupa.lua_type(err) != "table":
            return None
        out = self.driver.error_fields(err)
        if not isinstance(out, tuple) or not isinstance(out[0], str):
            return None
        return str(out[0]), str(out[1]), out[2] if len(out) > 2 else None

    def hit_limit(self, name: str) -> LlmspellError:
        """Record that limit ``name`` was reached: the whole spell is cancelled and ends with
        code ``limit``."""
        if self.limit_error is None:
            value = getattr(self.limits, name, None)
            text = _LIMIT_TEXT.get(name, name + " limit {}").format(value)
            self.limit_error = LlmspellError(
                "limit",
                f"{self.filename}: spell exceeded its {text} ({name})",
                {"limit": name, "value": value, "file": self.filename},
            )
            if self.main_scope is not None:
                self.main_scope.cancel()
            for record in self.session.tasks.values():
                record.scope.cancel()
        return self._limit_copy()

    def _limit_copy(self) -> LlmspellError:
        assert self.limit_error is not None
        err = self.limit_error
        return LlmspellError(err.code, err.message, dict(err.details))

    # --- JSON (done by the driver, not by a host operation) ----------------------------------

    def _json_parse(self, text: Any) -> Any:
        def refuse(name: str) -> Any:
            raise LlmspellError("invalid_value", f"JSON.parse: {name} is not JSON")

        try:
            return json.loads(str(text), parse_constant=refuse)
        except json.JSONDecodeError as exc:
            raise LlmspellError(
                "invalid_value",
                f"JSON.parse: {exc.msg} at line {exc.lineno} column {exc.colno}",
                {"json_line": exc.lineno, "json_column": exc.colno},
            ) from None
        except RecursionError:
            raise LlmspellError(
                "invalid_value", "JSON.parse: the text is nested too deeply"
            ) from None

    def _json_stringify(self, data: Any, indent: Any = None) -> str:
        try:
            if isinstance(indent, int) and not isinstance(indent, bool) and indent > 0:
                return json.dumps(
                    data, ensure_ascii=False, allow_nan=False, sort_keys=True, indent=indent
                )
            return json.dumps(
                data, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
            )
        except (TypeError, ValueError) as exc:
            raise LlmspellError("invalid_value", f"JSON.stringify: {exc}") from None

    def callback(self, fn: Any) -> LuaCallback:
        return LuaCallback(self, fn)


#: the operations the bridge answers itself, without the host operation table (functions of the
#: class, not bound methods: a bridge holding its own bound methods would be a reference cycle,
#: freed only by the garbage collector, and with it the whole Lua runtime)
_LOCAL_OPS: dict[str, Callable[..., Any]] = {
    "json.parse": LuaBridge._json_parse,
    "json.stringify": LuaBridge._json_stringify,
}


class LuaRepl:
    """An interactive Lua session: every input runs as a chunk in the same sandboxed
    environment, so globals persist (``local`` variables end with their chunk, as in ``lua``).
    An input that is an expression is evaluated and its value returned."""

    def __init__(self, session: ScriptSession) -> None:
        self.session = session
        self.bridge = LuaBridge(session)

    def _load(self, source: str) -> tuple[Any, str | None]:
        """The compiled chunk (``return <source>`` first), or ``(None, error message)``."""
        message = None
        for text in ("return " + source, source):
            out = self.bridge.driver.compile(text)
            if not isinstance(out, tuple):
                return out, None
            message = str(out[1])
        return None, message

    def is_complete(self, source: str) -> bool:
        _, message = self._load(source)
        return message is None or not message.endswith("<eof>")

    async def evaluate(self, source: str) -> Any:
        fn, _ = self._load(source)
        if fn is None:
            self.bridge.compile(source)  # raises the syntax error naming the line
        try:
            return await self.bridge.call(fn, ())
        finally:
            if self.bridge.limit_error is not None:  # the runtime may be unusable: start over
                error = self.bridge._limit_copy()
                self.bridge = LuaBridge(self.session)
                error.message += " (the session was reset)"
                raise error


class LuaEngine:
    """The ``lua`` script engine (Lua 5.4 through lupa)."""

    name = "lua"
    extensions = (".lua",)

    def repl(self, session: ScriptSession) -> LuaRepl:
        """An interactive session on a new sandboxed runtime (``llmspell repl``)."""
        return LuaRepl(session)

    async def run(self, source: str, filename: str, run: SpellRun) -> Any:
        session = ScriptSession(run, filename)
        return await LuaBridge(session).run_main(source)

    async def run_session(self, source: str, session: ScriptSession) -> Any:
        """Like :meth:`run` with a session made by the caller (e.g. to capture ``print``)."""
        return await LuaBridge(session).run_main(source)
