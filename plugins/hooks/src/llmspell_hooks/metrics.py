"""``hooks-metrics`` (on by default): counts, errors and latency histograms of operations, and
tokens and cost per model, for each kernel (the whole process's runs on it).

Operations are counted per ``(kind, name)``: spells, agents, workflows, workflow steps, model
calls (``name`` is the model) and tool calls. Model calls also add their tokens and cost to
their model. A finished operation is counted by its after hook, timed from ``ctx.started``
(no before hooks); every failed attempt is counted, with its code and latency, by an
``on_error`` hook of a high priority (:data:`ON_ERROR_PRIORITY`), before any other hook can
recover from it or retry it. These hooks are methods of the kernel's counters (:class:`_State`),
registered in that kernel's plugin manager as :data:`COUNTERS`: the hot path finds its counters
without looking its kernel up. :func:`snapshot` gives the figures as JSON data,
:func:`render_prometheus` in the Prometheus text exposition format (0.0.4); with
``json_file``/``prometheus_file`` set, both are written, atomically, at the end of every spell
(node_exporter's textfile-collector pattern).

The exposition is written by hand: ``prometheus_client`` takes about 130 ms to import and
about 1 µs per labelled increment, both too much for a hook that is on by default (the tests
check the output with its parser when it is installed, else with a strict parser of their own).

Settings (``[plugins.hooks-metrics]``): ``buckets``, ``labels``, ``json_file``,
``prometheus_file``. See docs/hook-metrics.md.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import tempfile
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, hookimpl
from llmspell_hooks.redact import PerKernel, rename, setting_path

llmspell_default_enabled = True

NAME = "hooks-metrics"
SETTINGS = ("enabled", "buckets", "labels", "json_file", "prometheus_file")
#: latency histogram bounds in seconds (``+Inf`` is implied)
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0, 120.0)
#: the operation kinds counted
KINDS = ("spell", "agent", "workflow", "workflow_step", "llm_call", "tool_call")
#: the kinds whose failures the on_error hook counts (a spell's own failure: at spell_end)
_ON_ERROR_KINDS = frozenset(KINDS) - {"spell"}
#: the on_error hook runs before the others (hooks-trace's excepted): it sees every failed
#: attempt, even one another hook then recovers from or retries
ON_ERROR_PRIORITY = 100_000
#: labels of the metrics themselves, which ``labels`` may not use
RESERVED_LABELS = ("kind", "name", "code", "model", "type", "le")
#: the name of the per-kernel plugin object holding the operation hooks (the kernel's counters)
COUNTERS = "hooks-metrics:counters"
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

log = logging.getLogger("llmspell.metrics")
_now = time.perf_counter
#: in ``ctx.metadata`` after a failed attempt: its attempt number, and when it failed (where
#: the next attempt's latency starts)
_FAILED = "llmspell_hooks.metrics.failed"
_FAILED_AT = "llmspell_hooks.metrics.failed_at"


class _Series:
    """One ``(kind, name)``: finished operations, failed ones (by code), skipped ones, and the
    latency histogram (``buckets[i]`` counts durations in ``(bounds[i-1], bounds[i]]``; the
    last one those above every bound; their sum is the count of operations)."""

    __slots__ = ("buckets", "codes", "errors", "skipped", "sum")

    def __init__(self, size: int) -> None:
        self.errors = 0
        self.skipped = 0
        self.sum = 0.0
        self.buckets = [0] * (size + 1)
        self.codes: dict[str, int] = {}

    @property
    def count(self) -> int:
        return sum(self.buckets)


class _Model:
    __slots__ = ("calls", "cost", "input_tokens", "output_tokens")

    def __init__(self) -> None:
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost: float | None = None


class _State:
    """The counters of one kernel, and its after hooks (see :data:`COUNTERS`)."""

    __slots__ = ("bounds", "json_file", "labels", "models", "prometheus_file", "series")

    def __init__(self, bounds: tuple[float, ...], labels: dict[str, str],
                 json_file: Path | None, prometheus_file: Path | None) -> None:
        self.bounds = bounds
        self.labels = labels
        self.json_file = json_file
        self.prometheus_file = prometheus_file
        #: kind -> name -> series
        self.series: dict[str, dict[str, _Series]] = {kind: {} for kind in KINDS}
        self.models: dict[str, _Model] = {}

    def series_of(self, kind: str, name: str) -> _Series:
        by_name = self.series[kind]
        series = by_name.get(name)
        if series is None:
            series = by_name[name] = _Series(len(self.bounds))
        return series

    def observe(self, ctx: HookContext, seconds: float) -> _Series:
        series = self.series_of(ctx.kind, ctx.name)
        series.sum += seconds
        series.buckets[bisect_left(self.bounds, seconds)] += 1
        return series

    def fail(self, ctx: HookContext, seconds: float, code: str) -> None:
        series = self.observe(ctx, seconds)
        series.errors += 1
        series.codes[code] = series.codes.get(code, 0) + 1

    # --- the operation hooks (methods: pluggy calls them bound to this kernel's counters) -----

    def _after(self, ctx: HookContext) -> None:
        t0 = ctx.started
        meta = ctx.metadata
        if meta and _FAILED in meta:
            if meta[_FAILED] == ctx.attempt:
                return  # this attempt failed (counted) and an on_error hook recovered from it
            t0 = meta[_FAILED_AT]
        seconds = _now() - t0
        series = self.series[ctx.kind].get(ctx.name)
        if series is None:
            series = self.series_of(ctx.kind, ctx.name)
        series.sum += seconds
        bounds = self.bounds
        series.buckets[0 if seconds <= bounds[0] else bisect_left(bounds, seconds)] += 1
        if ctx.skipped:
            series.skipped += 1

    def _after_llm_call(self, ctx: HookContext) -> None:
        t0 = ctx.started
        meta = ctx.metadata
        if _FAILED in meta:
            if meta[_FAILED] == ctx.attempt:
                return  # this attempt failed (counted) and an on_error hook recovered from it
            t0 = meta[_FAILED_AT]
        seconds = _now() - t0
        name = ctx.name
        series = self.series["llm_call"].get(name)
        if series is None:
            series = self.series_of("llm_call", name)
        series.sum += seconds
        bounds = self.bounds
        series.buckets[0 if seconds <= bounds[0] else bisect_left(bounds, seconds)] += 1
        if ctx.skipped:  # an answer from a cache used no tokens
            series.skipped += 1
            return
        usage = getattr(ctx.output, "usage", None)
        if usage is None:
            return
        model = self.models.get(name)
        if model is None:
            model = self.models[name] = _Model()
        model.calls += 1
        model.input_tokens += usage.input_tokens
        model.output_tokens += usage.output_tokens
        if usage.cost is not None:
            model.cost = (model.cost or 0.0) + usage.cost

    @hookimpl(priority=ON_ERROR_PRIORITY)
    def llmspell_on_error(self, ctx: HookContext) -> None:
        """Count a failed attempt (whether a later hook retries it or recovers from it)."""
        if ctx.kind not in _ON_ERROR_KINDS:
            return  # state writes, event emissions
        now = _now()
        meta = ctx.metadata
        t0 = meta[_FAILED_AT] if _FAILED in meta else ctx.started
        meta[_FAILED] = ctx.attempt
        meta[_FAILED_AT] = now
        self.fail(ctx, now - t0, getattr(ctx.error, "code", "error"))

    # one body per kind, under the name of each hook (pluggy finds implementations by name)
    llmspell_after_agent = hookimpl(rename(_after, "llmspell_after_agent"))
    llmspell_after_workflow = hookimpl(rename(_after, "llmspell_after_workflow"))
    llmspell_after_workflow_step = hookimpl(rename(_after, "llmspell_after_workflow_step"))
    llmspell_after_tool_call = hookimpl(rename(_after, "llmspell_after_tool_call"))
    llmspell_after_llm_call = hookimpl(rename(_after_llm_call, "llmspell_after_llm_call"))


_STATES: PerKernel[_State] = PerKernel()


def _state(kernel: Any) -> _State:
    st = _STATES.of(kernel)
    if st is None:
        raise LlmspellError(
            "not_found",
            f"{NAME} is not loaded in this kernel",
            {"plugin": NAME},
            hint=f"it is on by default; check that it is not disabled ({NAME})",
        )
    return st


# --- configuration ----------------------------------------------------------------------------


@hookimpl
def llmspell_configure(config: Any, kernel: Any) -> None:
    table = config.plugin(NAME)
    table.check_keys(SETTINGS)
    bounds = _buckets(table)
    labels = _labels(table)
    json_file = setting_path(table, "json_file")
    prometheus_file = setting_path(table, "prometheus_file")
    st = _State(bounds, labels, json_file, prometheus_file)
    _STATES.set(kernel, st)
    pm = kernel.pm
    old = pm.get_plugin(COUNTERS)
    if old is not None:
        pm.unregister(old)
    pm.register(st, name=COUNTERS)
    kernel.hooks.invalidate()


def _buckets(table: Any) -> tuple[float, ...]:
    raw = table.get("buckets", list, None)
    if raw is None:
        return DEFAULT_BUCKETS
    if not raw:
        raise table.error("buckets", "must list at least one bound (in seconds)")
    bounds = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise table.error("buckets", f"must be a list of numbers (seconds), got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise table.error("buckets", f"must hold finite numbers > 0, got {value!r}")
        bounds.append(float(value))
    if any(b <= a for a, b in itertools.pairwise(bounds)):
        raise table.error("buckets", f"must be in increasing order, got {raw!r}")
    return tuple(bounds)


def _labels(table: Any) -> dict[str, str]:
    raw = table.get("labels", dict, {})
    for key, value in raw.items():
        if not _LABEL_NAME.fullmatch(key) or key.startswith("__"):
            raise table.error("labels", f"has an invalid label name {key!r}")
        if key in RESERVED_LABELS:
            raise table.error("labels", f"may not set {key!r}: the metrics use it")
        if not isinstance(value, str):
            raise table.error("labels", f"{key} must be a string, got {value!r}")
    return dict(raw)


# --- hooks ------------------------------------------------------------------------------------


@hookimpl
async def llmspell_spell_end(ctx: HookContext) -> None:
    st = _STATES.get(ctx)
    if st is None:
        return
    seconds = _now() - ctx.started
    if ctx.error is not None:
        st.fail(ctx, seconds, ctx.error.code)
    else:
        st.observe(ctx, seconds)
    if st.json_file is None and st.prometheus_file is None:
        return
    files = []
    if st.json_file is not None:
        files.append((st.json_file, json.dumps(_snapshot(st), indent=2) + "\n"))
    if st.prometheus_file is not None:
        files.append((st.prometheus_file, _render(st)))
    import trio

    await trio.to_thread.run_sync(_write_files, files)


def _write_files(files: list[tuple[Path, str]]) -> None:
    for path, text in files:
        try:
            write_atomically(path, text)
        except OSError as exc:  # the metrics are not worth failing the spell for
            log.warning("hooks-metrics could not write %s: %s", path, exc)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``: a
    reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --- export -----------------------------------------------------------------------------------


def snapshot(kernel: Any) -> dict[str, Any]:
    """The kernel's metrics as JSON data::

        {"labels": {...},
         "operations": {kind: {name: {"count", "errors", "error_codes", "skipped",
                                      "latency": {"count", "sum", "buckets": {"0.001": n, ...,
                                                                             "+Inf": n}}}}},
         "models": {model: {"calls", "input_tokens", "output_tokens", "tokens", "cost"}}}

    Bucket counts are cumulative (as in Prometheus); ``cost`` is ``None`` when no call of the
    model had a known price. Raises ``not_found`` when hooks-metrics is not loaded there."""
    return _snapshot(_state(kernel))


def _le(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(bound)


def _cumulative(st: _State, series: _Series) -> list[tuple[str, int]]:
    out, total = [], 0
    for le, n in zip((*st.bounds, math.inf), series.buckets, strict=True):
        total += n
        out.append((_le(le), total))
    return out


def _snapshot(st: _State) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for kind, by_name in st.series.items():
        if not by_name:
            continue
        operations[kind] = {
            name: {
                "count": s.count,
                "errors": s.errors,
                "error_codes": dict(s.codes),
                "skipped": s.skipped,
                "latency": {
                    "count": s.count,
                    "sum": s.sum,
                    "buckets": dict(_cumulative(st, s)),
                },
            }
            for name, s in sorted(by_name.items())
        }
    models = {
        name: {
            "calls": m.calls,
            "input_tokens": m.input_tokens,
            "output_tokens": m.output_tokens,
            "tokens": m.input_tokens + m.output_tokens,
            "cost": m.cost,
        }
        for name, m in sorted(st.models.items())
    }
    return {"labels": dict(st.labels), "operations": operations, "models": models}


def render_prometheus(kernel: Any) -> str:
    """The kernel's metrics in the Prometheus text exposition format (version 0.0.4)::

        llmspell_operations_total{kind, name}            counter (failed ones included)
        llmspell_operation_errors_total{kind, name, code} counter
        llmspell_operations_skipped_total{kind, name}    counter (a hook answered instead)
        llmspell_operation_duration_seconds{kind, name}  histogram
        llmspell_llm_tokens_total{model, type}           counter, type "input" or "output"
        llmspell_llm_cost_usd_total{model}               counter (models with a known price)

    every series also carrying the constant ``labels``. Raises ``not_found`` when hooks-metrics
    is not loaded there."""
    return _render(_state(kernel))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _render(st: _State) -> str:
    const = "".join(f',{k}="{_escape(v)}"' for k, v in st.labels.items())
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    def op_labels(kind: str, name: str) -> str:
        return f'kind="{kind}",name="{_escape(name)}"{const}'

    ops = [(kind, name, s) for kind, by_name in st.series.items()
           for name, s in sorted(by_name.items())]
    family("llmspell_operations_total", "counter",
           "Operations finished, by kind and name (failed ones included).")
    for kind, name, s in ops:
        lines.append(f"llmspell_operations_total{{{op_labels(kind, name)}}} {s.count}")
    family("llmspell_operation_errors_total", "counter",
           "Operations failed, by kind, name and error code.")
    for kind, name, s in ops:
        for code, n in sorted(s.codes.items()):
            lines.append(
                f'llmspell_operation_errors_total{{{op_labels(kind, name)},'
                f'code="{_escape(code)}"}} {n}'
            )
    family("llmspell_operations_skipped_total", "counter",
           "Operations a hook answered instead of running them, by kind and name.")
    for kind, name, s in ops:
        lines.append(f"llmspell_operations_skipped_total{{{op_labels(kind, name)}}} {s.skipped}")
    family("llmspell_operation_duration_seconds", "histogram",
           "Duration of operations in seconds, by kind and name.")
    for kind, name, s in ops:
        labels = op_labels(kind, name)
        for le, n in _cumulative(st, s):
            lines.append(f'llmspell_operation_duration_seconds_bucket{{{labels},le="{le}"}} {n}')
        lines.append(f"llmspell_operation_duration_seconds_sum{{{labels}}} {_number(s.sum)}")
        lines.append(f"llmspell_operation_duration_seconds_count{{{labels}}} {s.count}")
    family("llmspell_llm_tokens_total", "counter", "Tokens of model calls, by model and type.")
    models = sorted(st.models.items())
    for model, m in models:
        for kind, n in (("input", m.input_tokens), ("output", m.output_tokens)):
            lines.append(
                f'llmspell_llm_tokens_total{{model="{_escape(model)}",type="{kind}"{const}}} {n}'
            )
    family("llmspell_llm_cost_usd_total", "counter",
           "Cost of model calls in US dollars, by model (models with a known price).")
    for model, m in models:
        if m.cost is not None:
            lines.append(
                f'llmspell_llm_cost_usd_total{{model="{_escape(model)}"{const}}} '
                f"{_number(m.cost)}"
            )
    return "\n".join(lines) + "\n"


__all__ = ["DEFAULT_BUCKETS", "render_prometheus", "snapshot", "write_atomically"]
