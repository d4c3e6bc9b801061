"""``hooks-trace`` (off by default): one record per lifecycle hook point, for debugging.

It implements every point (``before_*``, ``after_*``, ``on_error``, ``spell_start``,
``spell_end``, event emissions included) with the highest priority, so it runs first: it sees
an operation's input before any other hook changes it, and its output as the operation gave
it. Each record holds the point, kind, name, attempt, skipped flag, run id, a redacted and
truncated summary of the input (before points, ``spell_start``, ``on_error``), the output
(after points, ``spell_end``) or the error, and the milliseconds since the operation's before
point. Records go to the logger ``llmspell.trace`` at ``DEBUG`` and/or to a file of JSON lines.

Settings (``[plugins.hooks-trace]``): ``file``, ``log``, ``max_chars``. See docs/hook-trace.md.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, TextIO

from llmspell.lifecycle import HookContext, HookPoint, hookimpl
from llmspell_hooks.logging_hook import install_fallback
from llmspell_hooks.redact import PerKernel, append_file, positive_int, redact_text, summarize

llmspell_default_enabled = False

NAME = "hooks-trace"
SETTINGS = ("enabled", "file", "log", "max_chars")
#: higher than any other hook's: the trace runs first at every point
PRIORITY = 1_000_000
LOGGER = logging.getLogger("llmspell.trace")
#: where a context keeps the time of its before point
_T0 = "llmspell_hooks.trace.t0"

_STARTS = frozenset(p for p in HookPoint if p.value.startswith("before_")) | {
    HookPoint.SPELL_START
}
_WITH_INPUT = _STARTS | {HookPoint.ON_ERROR}
_WITH_OUTPUT = frozenset(p for p in HookPoint if p.value.startswith("after_")) | {
    HookPoint.SPELL_END
}


class _State:
    __slots__ = ("__weakref__", "count", "file", "log", "max_chars")

    def __init__(self, log: bool, file: TextIO | None, max_chars: int) -> None:
        self.log = log
        self.file = file
        self.max_chars = max_chars
        #: records made so far
        self.count = 0


_STATES: PerKernel[_State] = PerKernel()


def count(kernel: Any) -> int:
    """How many records the trace of ``kernel`` has made (0 when it is not loaded there)."""
    st = _STATES.of(kernel)
    return st.count if st is not None else 0


@hookimpl
def llmspell_configure(config: Any, kernel: Any) -> None:
    table = config.plugin(NAME)
    table.check_keys(SETTINGS)
    log = table.get("log", bool, True)
    max_chars = positive_int(table, "max_chars", 200)
    file = append_file(table, "file", kernel)
    if log:
        install_fallback(("llmspell.trace",), logging.DEBUG)
    _STATES.set(kernel, _State(log, file, max_chars))


def _trace(ctx: HookContext) -> None:
    st = _STATES.get(ctx)
    if st is None:
        return
    to_log = st.log and LOGGER.isEnabledFor(logging.DEBUG)
    st.count += 1
    if not to_log and st.file is None:
        return
    point = ctx.point
    now = time.perf_counter()
    if point in _STARTS:
        ctx.metadata[_T0] = now
        elapsed: float | None = 0.0
    else:
        t0 = ctx.metadata.get(_T0)
        elapsed = round((now - t0) * 1000, 3) if isinstance(t0, float) else None
    record: dict[str, Any] = {
        "seq": st.count,
        "point": point.value,
        "kind": ctx.kind,
        "name": redact_text(ctx.name),
        "attempt": ctx.attempt,
        "skipped": ctx.skipped,
        "run_id": ctx.run_id,
        "elapsed_ms": elapsed,
    }
    if point in _WITH_INPUT:
        record["input"] = summarize(ctx.input, st.max_chars)
    if point in _WITH_OUTPUT:
        record["output"] = summarize(ctx.output, st.max_chars)
    err = ctx.error
    if err is not None:
        record["error_code"] = getattr(err, "code", type(err).__name__)
        record["error"] = summarize(str(getattr(err, "message", err)), st.max_chars)
    message = f"{point.value} {ctx.kind} {record['name']!r}"
    if to_log:
        LOGGER.debug(message, extra={"llmspell": record, "llmspell_format": "text"})
    if st.file is not None:
        line = {"ts": time.time(), **record}
        st.file.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_spell_start(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_spell_end(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_on_error(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_agent(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_agent(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_llm_call(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_llm_call(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_tool_call(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_tool_call(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_workflow(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_workflow(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_workflow_step(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_workflow_step(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_state_write(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_state_write(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_before_event_emit(ctx: HookContext) -> None:
    _trace(ctx)


@hookimpl(priority=PRIORITY, tryfirst=True)
def llmspell_after_event_emit(ctx: HookContext) -> None:
    _trace(ctx)


__all__ = ["PRIORITY", "count"]
