"""``hooks-logging`` (on by default): structured logging of every operation of a run.

Agents, model calls, tool calls, workflows and their steps, state writes, spell starts and ends
and the errors of all of them go to the standard ``logging`` tree under ``llmspell``
(:data:`LOGGERS`), their fields (run id, kind, name, duration, tokens, cost, error code ...) in
``record.llmspell`` (passed as ``extra``), and, with ``file`` set, as JSON lines to that file.
Every logged text is redacted (:mod:`llmspell_hooks.redact`).

Levels: ``debug`` an operation starting; ``info`` an operation finished (and spell start/end);
``error`` an operation failed (once per error: the operations it then fails too are logged at
``info``). The default level, ``warning``, logs errors only, so a normal run prints nothing.

Cost: failures are logged from an ``on_error`` hook of the lowest priority (it runs only for
errors no other hook recovered from or retried) and from ``spell_end``. The per-operation
before/after hooks are registered in a kernel only when its level needs them (``info``: after
hooks, ``debug``: before hooks too), as a second plugin object (:data:`OPERATIONS`) bound to
that kernel's settings: at the default level a successful operation does not call this plugin.
Durations come from ``ctx.started``.

Settings (``[plugins.hooks-logging]``): ``level``, ``format`` (``text``/``json``, how the records
print on stderr when the program has not configured ``logging``), ``file``,
``include_payloads``, ``max_payload_chars``. See docs/hook-logging.md.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import weakref
from typing import Any, TextIO

from llmspell.lifecycle import HookContext, hookimpl
from llmspell_hooks.redact import (
    PerKernel,
    add_secret_env_names,
    append_file,
    check_level,
    positive_int,
    redact_text,
    rename,
    summarize,
)

llmspell_default_enabled = True

NAME = "hooks-logging"
SETTINGS = ("enabled", "level", "format", "file", "include_payloads", "max_payload_chars")
FORMATS = ("text", "json")
#: the name of the per-kernel plugin object holding the operation hooks (levels info, debug)
OPERATIONS = "hooks-logging:operations"
#: the on_error hook runs after every other one: it sees only errors nobody recovered from
ON_ERROR_PRIORITY = -1_000_000

#: operation kind -> logger name
LOGGERS = {
    "agent": "llmspell.agent",
    "llm_call": "llmspell.llm",
    "tool_call": "llmspell.tool",
    "workflow": "llmspell.workflow",
    "workflow_step": "llmspell.workflow.step",
    "state_write": "llmspell.state",
    "spell": "llmspell.run",
}
_LOGGER = {kind: logging.getLogger(name) for kind, name in LOGGERS.items()}
#: the loggers on which the stderr fallback handler sits (not each other's descendants)
_TOP_LOGGERS = ("llmspell.agent", "llmspell.llm", "llmspell.tool", "llmspell.workflow",
                "llmspell.state", "llmspell.run")

DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR

# --- output -----------------------------------------------------------------------------------


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The llmspell fields of a record (empty for other records)."""
    fields = getattr(record, "llmspell", None)
    return fields if isinstance(fields, dict) else {}


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + (
        f".{int(created % 1 * 1000):03d}Z"
    )


def as_json(record: logging.LogRecord) -> dict[str, Any]:
    """A record as one JSON object: ``ts``, ``level``, ``logger``, ``message`` and its fields."""
    out: dict[str, Any] = {
        "ts": _timestamp(record.created),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    out.update(record_fields(record))
    if record.exc_info:
        out["exception"] = redact_text(logging.Formatter().formatException(record.exc_info))
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts``, ``level``, ``logger``, ``message`` and the llmspell
    fields (``run_id``, ``kind``, ``name``, ``duration_ms`` ...)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(as_json(record), ensure_ascii=False, default=str)


#: fields the text format leaves out (the message says them)
_IN_MESSAGE = frozenset({"kind", "name", "event", "error"})


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message [field=value ...]``."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        extra = [
            f"{k}={v if isinstance(v, (int, float)) else json.dumps(v, ensure_ascii=False)}"
            for k, v in record_fields(record).items()
            if k not in _IN_MESSAGE and v is not None
        ]
        if extra:
            text += " [" + " ".join(extra) + "]"
        if record.exc_info:
            text += "\n" + redact_text(self.formatException(record.exc_info))
        return text


_FORMATTERS: dict[str, logging.Formatter] = {"text": TextFormatter(), "json": JsonFormatter()}


class FallbackHandler(logging.Handler):
    """Prints llmspell records on stderr (in the format their kernel asked for, the record's
    ``llmspell_format``) only while nothing else would: no other handler between the record's
    logger and the root (the program has not configured ``logging``). It leaves out the records
    of a spell's own failure (``llmspell_caller_reports``): that error is raised to whoever ran
    the spell (``llmspell run`` prints it as ``error: ...``), so on a terminal it shows once."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "llmspell_caller_reports", False) or _configured(record.name):
            return
        try:
            style = getattr(record, "llmspell_format", "text")
            text = _FORMATTERS.get(style, _FORMATTERS["text"]).format(record)
            stream = sys.stderr
            stream.write(text + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def _configured(name: str) -> bool:
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        if any(not isinstance(h, FallbackHandler) for h in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


_FALLBACK = FallbackHandler()


def install_fallback(names: tuple[str, ...], level: int) -> None:
    """Put the stderr fallback handler on loggers ``names`` and let ``level`` through them."""
    for name in names:
        logger = logging.getLogger(name)
        if _FALLBACK not in logger.handlers:
            logger.addHandler(_FALLBACK)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)


# --- per-kernel state -------------------------------------------------------------------------


class _State:
    __slots__ = ("__weakref__", "debug", "file", "format", "info", "level", "logged",
                 "max_chars", "payloads")

    def __init__(self, level: int, fmt: str, payloads: bool, max_chars: int,
                 file: TextIO | None) -> None:
        self.level = level
        self.debug = level <= DEBUG
        self.info = level <= INFO
        self.format = fmt
        self.payloads = payloads
        self.max_chars = max_chars
        self.file = file
        #: errors already logged (an error failing the operations around it is logged once)
        self.logged: weakref.WeakSet[BaseException] = weakref.WeakSet()


_STATES: PerKernel[_State] = PerKernel()


def state(kernel: Any) -> _State | None:
    """The logging state of ``kernel`` (``None`` when the hook is not loaded there)."""
    return _STATES.of(kernel)


@hookimpl
def llmspell_configure(config: Any, kernel: Any) -> None:
    table = config.plugin(NAME)
    table.check_keys(SETTINGS)
    level = check_level(table, "level", "warning")
    fmt = table.get("format", str, "text")
    if fmt not in FORMATS:
        raise table.error("format", f"must be 'text' or 'json', got {fmt!r}")
    payloads = table.get("include_payloads", bool, False)
    max_chars = positive_int(table, "max_payload_chars", 500)
    file = append_file(table, "file", kernel)
    add_secret_env_names(
        name for p in config.providers.values()
        if isinstance(name := p.data.get("api_key_env"), str)
    )
    install_fallback(_TOP_LOGGERS, level)
    st = _State(level, fmt, payloads, max_chars, file)
    _STATES.set(kernel, st)
    _register_operations(kernel, st)


def _register_operations(kernel: Any, st: _State) -> None:
    """Put the operation hooks the level needs into ``kernel``'s plugin manager (none at
    ``warning`` and above), replacing those of an earlier configuration."""
    pm = kernel.pm
    old = pm.get_plugin(OPERATIONS)
    if old is not None:
        pm.unregister(old)
    if st.debug:
        pm.register(_Starts(st), name=OPERATIONS)
    elif st.info:
        pm.register(_Finishes(st), name=OPERATIONS)
    kernel.hooks.invalidate()


# --- records ----------------------------------------------------------------------------------


def _emit(st: _State, kind: str, level: int, message: str, fields: dict[str, Any],
          *, caller_reports: bool = False) -> None:
    logger = _LOGGER[kind]
    if logger.isEnabledFor(level):
        extra: dict[str, Any] = {"llmspell": fields, "llmspell_format": st.format}
        if caller_reports:
            extra["llmspell_caller_reports"] = True
        logger.log(level, message, extra=extra)
    if st.file is not None:
        line = {
            "ts": _timestamp(time.time()),
            "level": logging.getLevelName(level),
            "logger": logger.name,
            "message": message,
            **fields,
        }
        st.file.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def _fields(ctx: HookContext, event: str) -> dict[str, Any]:
    run = ctx.run
    fields: dict[str, Any] = {
        "event": event,
        "run_id": ctx.run_id,
        "spell": redact_text(run.name) if run is not None else None,
        "kind": ctx.kind,
        "name": redact_text(ctx.name),
    }
    if ctx.attempt:
        fields["attempt"] = ctx.attempt
    if ctx.kind == "state_write":
        fields["op"] = ctx.metadata.get("op")
    return fields


def _label(ctx: HookContext) -> str:
    return f"{ctx.kind} {redact_text(ctx.name)!r}"


def _usage(fields: dict[str, Any], output: Any) -> str:
    usage: Any = getattr(output, "usage", None)
    tokens_in = getattr(usage, "input_tokens", None)
    if not isinstance(tokens_in, int):
        return ""
    tokens_out = usage.output_tokens
    fields["input_tokens"] = tokens_in
    fields["output_tokens"] = tokens_out
    fields["tokens"] = tokens_in + tokens_out
    if usage.cost is not None:
        fields["cost"] = usage.cost
    return f", {tokens_in} tokens in, {tokens_out} out"


def _log_start(st: _State, ctx: HookContext) -> None:
    if not _LOGGER[ctx.kind].isEnabledFor(DEBUG) and st.file is None:
        return
    fields = _fields(ctx, "start")
    if st.payloads:
        fields["input"] = summarize(ctx.input, st.max_chars)
    _emit(st, ctx.kind, DEBUG, f"{_label(ctx)} started", fields)


def _log_end(st: _State, ctx: HookContext) -> None:
    if not _LOGGER[ctx.kind].isEnabledFor(INFO) and st.file is None:
        return
    fields = _fields(ctx, "end")
    fields["duration_ms"] = round((_now() - ctx.started) * 1000, 3)
    took = f" in {fields['duration_ms']} ms"
    if ctx.skipped:
        fields["skipped"] = True
    usage = _usage(fields, ctx.output)
    if st.payloads:
        fields["output"] = summarize(ctx.output, st.max_chars)
    how = " (skipped by a hook)" if ctx.skipped else ""
    _emit(st, ctx.kind, INFO, f"{_label(ctx)} finished{took}{how}{usage}", fields)


def _log_failure(st: _State, ctx: HookContext, *, spell: bool = False) -> None:
    """Log ``ctx.error``: at ``error`` the first time that error is seen, else at ``info``. A
    spell's own failure is marked for the stderr fallback to leave out (its caller reports it)."""
    err = ctx.error
    if err is None:
        return
    first = err not in st.logged
    level = ERROR if first else INFO
    if first:
        st.logged.add(err)
    if level < st.level:
        return
    if not _LOGGER[ctx.kind].isEnabledFor(level) and st.file is None:
        return
    fields = _fields(ctx, "error")
    fields["duration_ms"] = round((_now() - ctx.started) * 1000, 3)
    code = getattr(err, "code", type(err).__name__)
    message = redact_text(str(getattr(err, "message", err)))
    fields["error_code"] = code
    fields["error"] = message
    if st.payloads:
        fields["input"] = summarize(ctx.input, st.max_chars)
    _emit(st, ctx.kind, level, f"{_label(ctx)} failed: {code}: {message}", fields,
          caller_reports=spell and first)


# --- hooks ------------------------------------------------------------------------------------

_now = time.perf_counter


@hookimpl(priority=ON_ERROR_PRIORITY)
def llmspell_on_error(ctx: HookContext) -> None:
    """A failed operation that no hook recovered from or retried (the lowest priority: a hook
    returning an action ends the chain before this one)."""
    if ctx.kind in _LOGGER:  # not event emissions
        st = _STATES.get(ctx)
        if st is not None:
            _log_failure(st, ctx)


@hookimpl
def llmspell_spell_start(ctx: HookContext) -> None:
    st = _STATES.get(ctx)
    if st is None or not st.info:
        return
    if _LOGGER["spell"].isEnabledFor(INFO) or st.file is not None:
        fields = _fields(ctx, "start")
        if st.payloads:
            fields["input"] = summarize(ctx.input, st.max_chars)
        _emit(st, "spell", INFO, f"spell {redact_text(ctx.name)!r} started", fields)


@hookimpl
def llmspell_spell_end(ctx: HookContext) -> None:
    st = _STATES.get(ctx)
    if st is None:
        return
    if ctx.error is not None:
        _log_failure(st, ctx, spell=True)
    elif st.info:
        _log_end(st, ctx)


# --- per-kernel operation hooks (levels info and debug) ----------------------------------------


def _after(self: _Finishes, ctx: HookContext) -> None:
    if ctx.run is not None:
        _log_end(self.st, ctx)


def _before(self: _Finishes, ctx: HookContext) -> None:
    if ctx.run is not None:
        _log_start(self.st, ctx)


_KINDS = ("agent", "llm_call", "tool_call", "workflow", "workflow_step", "state_write")


class _Finishes:
    """The after hooks of one kernel logging at ``info``: one record per finished operation."""

    __slots__ = ("st",)

    def __init__(self, st: _State) -> None:
        self.st = st


class _Starts(_Finishes):
    """The before and after hooks of one kernel logging at ``debug``."""

    __slots__ = ()


# one body per phase, under the name of each hook (pluggy finds implementations by name)
for _kind in _KINDS:
    setattr(_Finishes, f"llmspell_after_{_kind}",
            hookimpl(rename(_after, f"llmspell_after_{_kind}")))
    setattr(_Starts, f"llmspell_before_{_kind}",
            hookimpl(rename(_before, f"llmspell_before_{_kind}")))
del _kind


__all__ = ["LOGGERS", "FallbackHandler", "JsonFormatter", "TextFormatter", "as_json", "state"]
