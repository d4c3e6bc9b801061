"""hooks-otel: OpenTelemetry tracing of spell runs, following the GenAI semantic conventions.

Spans (names and attributes of the OpenTelemetry GenAI conventions where they exist):

===================  ===================================  ======================================
operation            span name                            attributes
===================  ===================================  ======================================
spell run            ``spell {spell name}``               ``llmspell.spell.name``,
                                                          ``llmspell.run_id``
agent                ``invoke_agent {name}``              ``gen_ai.operation.name``,
                                                          ``gen_ai.agent.name``, usage
workflow             ``invoke_workflow {name}``           ``gen_ai.workflow.name``, usage
workflow step        ``workflow_step {workflow}/{step}``  ``llmspell.workflow.*``
model call           ``chat {model}`` (kind CLIENT)       ``gen_ai.provider.name``,
                                                          ``gen_ai.system``, ``gen_ai.request.*``,
                                                          ``gen_ai.response.*``, ``gen_ai.usage.*``
tool call            ``execute_tool {name}``              ``gen_ai.tool.name``,
                                                          ``gen_ai.tool.call.id``
===================  ===================================  ======================================

Parents come from the OpenTelemetry context (contextvars): a before hook starts the span and
attaches it, the after or on_error hook ends it and detaches it, so whatever runs inside an
operation (in its task or in tasks it starts) is its child. An error sets status ERROR and
``error.type`` = the llmspell code. The hooks run last (lowest priority) at every point, so a
span is started only for an operation that no other before hook stopped, and ended only once no
other hook asked for a retry. A span whose operation never reached its after or on_error hook
(cancelled, or stopped by another after hook) is ended with status ERROR when its parent ends
(if its task is gone), when the next operation of its task starts, or at the latest at
``spell_end``; its ``error.type`` is ``cancelled``, or the code its parent failed with when an
after hook stopped it (a budget exceeded).

Export: with ``endpoint`` set, OTLP over HTTP (protobuf) through a batch span processor, flushed
at every spell end and at process exit. Tests and programs install their own provider with
:func:`use_tracer_provider`. The global tracer provider is never set.
"""

from __future__ import annotations

import os
import re
import sys
import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.config import Table
from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, HookDispatcher, hookimpl

if TYPE_CHECKING:
    from llmspell.config import Config
    from llmspell.kernel import Kernel

llmspell_default_enabled = False

NAME = "hooks-otel"
KEYS = ("enabled", "endpoint", "headers", "service_name", "timeout", "flush_at_spell_end")
TRACES_PATH = "/v1/traces"
#: lowest priority at every point: see the module docstring
PRIORITY = -1_000_000
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: span status of a span that its operation never ended
UNFINISHED = "cancelled"


@attrs.frozen
class Settings:
    endpoint: str | None = None
    #: header name -> name of the environment variable holding its value
    headers: Mapping[str, str] = attrs.field(factory=dict)
    service_name: str = "llmspell"
    timeout: float = 10.0
    flush_at_spell_end: bool = True


@attrs.define(eq=False)
class _Node:
    """One open span of a run."""

    span: Any
    token: Any  # the context token to detach (None: not attached)
    task: Any  # the trio task that started it
    #: the frame of the operation's ``HookDispatcher.guard`` (None for the spell span): while the
    #: operation runs, it is on the stack of its task
    frame: Any
    parent: _Node | None
    #: the operation's context (a weak reference; None for the spell span)
    ctx: Any = None
    children: list[_Node] = attrs.field(factory=list)
    ended: bool = False


@attrs.define(eq=False)
class _Run:
    spell: _Node | None = None
    live: dict[Any, _Node] = attrs.field(factory=dict)  # span -> node
    finalizer: Any = None


@attrs.define(eq=False)
class _KernelState:
    settings: Settings
    provider: Any = None
    tracer: Any = None
    #: built from ``endpoint`` by this plugin (flushed at spell end, shut down at exit)
    owned: bool = False
    runs: dict[str, _Run] = attrs.field(factory=dict)


_kernels: weakref.WeakKeyDictionary[Any, _KernelState] = weakref.WeakKeyDictionary()
#: the open node of each operation context
_nodes: weakref.WeakKeyDictionary[HookContext, _Node] = weakref.WeakKeyDictionary()
#: ``(tool name, call id)`` of the ``tool.started`` event just emitted in this task
_pending_call: ContextVar[tuple[str, str] | None] = ContextVar(
    "llmspell_hooks_otel_call", default=None
)


# --- settings and providers -------------------------------------------------------------------


def parse_settings(table: Table) -> Settings:
    """The settings in ``[plugins.hooks-otel]``; ``config_error`` naming the key when wrong."""
    table.check_keys(KEYS)
    endpoint = table.get("endpoint", str, "") or None
    if endpoint is not None and not re.match(r"https?://[^/\s]+", endpoint):
        raise table.error("endpoint", f"must be an http:// or https:// URL, got {endpoint!r}")
    headers = table.get("headers", dict, {})
    for header, env_name in headers.items():
        if not isinstance(env_name, str) or not _ENV_NAME.fullmatch(env_name):
            raise table.error(
                f"headers.{header}",
                f"must name an environment variable, got {env_name!r}",
                hint="put the value (a token) in an environment variable and name it here; "
                "secrets never go in the file",
            )
    service = table.get("service_name", str, "llmspell")
    if not service:
        raise table.error("service_name", "must not be empty")
    timeout = table.positive("timeout", 10.0)
    assert timeout is not None
    return Settings(
        endpoint, dict(headers), service, timeout, table.get("flush_at_spell_end", bool, True)
    )


def traces_url(endpoint: str) -> str:
    """``endpoint`` as the URL spans are posted to: ``/v1/traces`` appended unless it is
    there."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def _exporting_provider(settings: Settings, table: Table) -> Any:
    """A tracer provider exporting to ``settings.endpoint`` through a batch processor."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    assert settings.endpoint is not None
    headers = {}
    for header, env_name in settings.headers.items():
        value = os.environ.get(env_name)
        if value is None:
            raise table.error(
                f"headers.{header}", f"names environment variable {env_name}, which is not set"
            )
        headers[header] = value
    exporter = OTLPSpanExporter(
        endpoint=traces_url(settings.endpoint), headers=headers, timeout=settings.timeout
    )
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _tracer(provider: Any) -> Any:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("llmspell-hooks")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        own = None
    return provider.get_tracer("llmspell", own)


def _state(kernel: Kernel) -> _KernelState:
    found = _kernels.get(kernel)
    if found is None:
        found = _kernels[kernel] = _KernelState(parse_settings(kernel.config.plugin(NAME)))
    return found


def use_tracer_provider(kernel: Kernel, provider: Any) -> None:
    """Trace the runs of ``kernel`` with ``provider`` (an
    ``opentelemetry.sdk.trace.TracerProvider``, e.g. with an ``InMemorySpanExporter`` behind a
    ``SimpleSpanProcessor``) instead of the one built from ``endpoint``. The plugin must be
    enabled on ``kernel``; the global tracer provider is left alone."""
    if not kernel.pm.is_registered(sys.modules[__name__]):
        raise LlmspellError(
            "plugin_error",
            f"{NAME} is not enabled on this kernel",
            {"plugin": NAME},
            hint=f"Kernel.load(enable=[{NAME!r}]) or [plugins.{NAME}] enabled = true",
        )
    state = _state(kernel)
    if state.owned and state.provider is not None and state.provider is not provider:
        state.provider.shutdown()  # the exporter built from ``endpoint`` is replaced
    state.provider, state.tracer, state.owned = provider, _tracer(provider), False


def tracer_provider(kernel: Kernel) -> Any:
    """The tracer provider of ``kernel``'s spans (``None`` when nothing is traced)."""
    found = _kernels.get(kernel)
    return found.provider if found is not None else None


def force_flush(kernel: Kernel, timeout: float | None = None) -> bool:
    """Export the spans of ``kernel`` still buffered (blocking); ``True`` when done in time."""
    state = _kernels.get(kernel)
    if state is None or state.provider is None:
        return True
    millis = int((timeout if timeout is not None else state.settings.timeout) * 1000)
    return bool(state.provider.force_flush(millis))


def shutdown(kernel: Kernel) -> None:
    """Flush and stop the exporter this plugin built for ``kernel`` (also done at exit)."""
    state = _kernels.get(kernel)
    if state is not None and state.provider is not None and state.owned:
        state.provider.shutdown()
        state.provider = state.tracer = None


@hookimpl
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    table = config.plugin(NAME)
    state = _KernelState(parse_settings(table))
    if state.settings.endpoint is not None:
        state.provider = _exporting_provider(state.settings, table)
        state.tracer = _tracer(state.provider)
        state.owned = True
    _kernels[kernel] = state


# --- spans ------------------------------------------------------------------------------------


def _active(ctx: HookContext) -> _KernelState | None:
    if ctx.run is None:
        return None
    state = _kernels.get(ctx.run.kernel)
    if state is None or state.tracer is None:
        return None
    return state


def _run(state: _KernelState, run: Any) -> _Run:
    found = state.runs.get(run.run_id)
    if found is None:
        found = state.runs[run.run_id] = _Run()
        found.finalizer = weakref.finalize(run, _abandon, state.runs, run.run_id)
    return found


def _current_task() -> Any:
    import trio

    try:
        return trio.lowlevel.current_task()
    except RuntimeError:  # pragma: no cover - hooks run under trio
        return None


def _task_gone(task: Any) -> bool:
    if task is None or task is _current_task():
        return True
    nursery = task.parent_nursery
    return nursery is not None and task not in nursery.child_tasks


_GUARD_CODE = HookDispatcher.guard.__code__


def _guard_frame() -> Any:
    """The frame of the ``HookDispatcher.guard`` running the hook running now (``None`` for a
    hook called outside one)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _GUARD_CODE:
            return frame
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _stack() -> set[int]:
    ids = set()
    frame = sys._getframe(1)
    while frame is not None:
        ids.add(id(frame))
        frame = frame.f_back  # type: ignore[assignment]
    return ids


def _running(node: _Node, task: Any, stack: set[int]) -> bool:
    """Whether ``node``'s operation is still running: its task alive and, in this task, its
    guard still on the stack (an operation cancelled in this task leaves its span in the
    context, and later operations must not become its children)."""
    if node.ended:
        return False
    if node.frame is None:
        return True
    if node.task is not task:
        return not _task_gone(node.task)
    return id(node.frame) in stack


def _parent(run: _Run) -> tuple[_Node | None, Any]:
    """The node of the operation the new span belongs to, and the context to start it in
    (``None``: the current one). Spans of operations found abandoned on the way are ended."""
    from opentelemetry import context, trace

    current = run.live.get(trace.get_current_span())
    parent = current
    if parent is None:
        return None, None
    task, stack = _current_task(), _stack()
    while parent is not None and not _running(parent, task, stack):
        stale, parent = parent, parent.parent
        if not stale.ended:
            _leftover(stale, None)
            _end(run, stale, detach=False)
    if parent is current:
        return parent, None
    if parent is None:
        return None, context.Context()
    return parent, trace.set_span_in_context(parent.span)


def _start(
    state: _KernelState, ctx: HookContext, name: str, attributes: dict[str, Any], *,
    client: bool = False, frame: Any = None,
) -> _Node:
    from opentelemetry import context, trace

    run = _run(state, ctx.run)
    parent, parent_context = _parent(run)
    kind = trace.SpanKind.CLIENT if client else trace.SpanKind.INTERNAL
    span = state.tracer.start_span(
        name, context=parent_context, kind=kind, attributes=attributes
    )
    token = context.attach(trace.set_span_in_context(span, parent_context))
    node = _Node(span, token, _current_task(), frame, parent)
    if parent is not None:
        parent.children.append(node)
    run.live[span] = node
    return node


def _set_error(span: Any, code: str, message: str, error: BaseException | None = None) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", code)
    span.set_status(Status(StatusCode.ERROR, message))
    if error is not None:
        span.record_exception(error)


def _leftover(node: _Node, cause: LlmspellError | None) -> None:
    """Mark the span of an operation that never reached its after or on_error hook: stopped
    by an after hook (with ``cause``, the error its parent failed with, when known), or
    cancelled."""
    ctx = node.ctx() if node.ctx is not None else None
    if cause is not None and ctx is not None and ctx.point.value.startswith("after_"):
        _set_error(node.span, cause.code, cause.message)
    else:
        _set_error(node.span, UNFINISHED,
                   "the operation did not finish (cancelled, or stopped by another hook)")


def _end(
    run: _Run | None, node: _Node, *, detach: bool = True, force: bool = False,
    cause: LlmspellError | None = None,
) -> None:
    """End ``node`` after its leftover children (those whose task is gone; all with ``force``),
    and detach its context when it is the operation's own end."""
    from opentelemetry import context

    for child in list(node.children):
        if not child.ended and (force or _task_gone(child.task)):
            _leftover(child, cause)
            _end(run, child, detach=False, force=force, cause=cause)
    node.ended = True
    node.frame = None
    node.span.end()
    if run is not None:
        run.live.pop(node.span, None)
    if node.parent is not None and node in node.parent.children:
        node.parent.children.remove(node)
    if detach and node.token is not None:
        context.detach(node.token)
        node.token = None


def _abandon(runs: dict[str, _Run], run_id: str) -> None:
    """A run that went away without ``spell_end`` (cancelled from outside): end its spans."""
    run = runs.pop(run_id, None)
    if run is None:
        return
    for node in list(run.live.values()):
        if not node.ended:
            _set_error(node.span, UNFINISHED, "the spell run did not finish")
            _end(run, node, detach=False, force=True)


# --- attributes -------------------------------------------------------------------------------


def _usage(out: dict[str, Any], usage: Any) -> None:
    if usage is None:
        return
    out["gen_ai.usage.input_tokens"] = int(usage.input_tokens)
    out["gen_ai.usage.output_tokens"] = int(usage.output_tokens)
    if usage.cost is not None:
        out["llmspell.usage.cost"] = float(usage.cost)


def _start_attributes(ctx: HookContext) -> tuple[str, dict[str, Any], bool] | None:
    """Span name, attributes and whether it is a client span, for ``ctx``'s operation."""
    kind, name = ctx.kind, ctx.name
    if kind == "agent":
        return f"invoke_agent {name}", {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name,
        }, False
    if kind == "workflow":
        return f"invoke_workflow {name}", {
            "gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": name,
            "llmspell.workflow.name": name,
        }, False
    if kind == "workflow_step":
        workflow, _, step = name.partition("/")
        attrs_: dict[str, Any] = {
            "llmspell.workflow.name": workflow, "llmspell.workflow.step": step,
        }
        attempt = ctx.metadata.get("attempt")
        if isinstance(attempt, int):
            attrs_["llmspell.workflow.step.attempt"] = attempt
        return f"workflow_step {name}", attrs_, False
    if kind == "llm_call":
        provider, _, model = name.partition("/")
        out: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
            "gen_ai.request.model": model,
            "llmspell.model": name,
        }
        request = ctx.input
        for field, key in (
            ("temperature", "gen_ai.request.temperature"),
            ("max_tokens", "gen_ai.request.max_tokens"),
            ("seed", "gen_ai.request.seed"),
        ):
            value = getattr(request, field, None)
            if value is not None:
                out[key] = value
        stop = getattr(request, "stop", None)
        if stop:
            out["gen_ai.request.stop_sequences"] = [str(s) for s in stop]
        return f"chat {model}", out, True
    if kind == "tool_call":
        out = {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
        }
        pending = _pending_call.get()
        if pending is not None:
            _pending_call.set(None)
            if pending[0] == name:
                out["gen_ai.tool.call.id"] = pending[1]
        return f"execute_tool {name}", out, False
    return None


def _end_attributes(ctx: HookContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    value = ctx.output
    if ctx.kind == "llm_call":
        model = getattr(value, "model", None)
        if model:
            out["gen_ai.response.model"] = str(model)
        else:
            out["gen_ai.response.model"] = ctx.name.partition("/")[2]
        finish = getattr(value, "finish_reason", None)
        if finish:
            out["gen_ai.response.finish_reasons"] = [str(finish)]
        _usage(out, getattr(value, "usage", None))
    elif ctx.kind in ("agent", "workflow"):
        _usage(out, getattr(value, "usage", None))
        agents = getattr(value, "agents", None)
        if agents:
            out["llmspell.agents"] = [str(a) for a in agents]
    if ctx.attempt:
        out["llmspell.retries"] = ctx.attempt
    if ctx.skipped:
        out["llmspell.skipped"] = True
    return out


# --- hooks ------------------------------------------------------------------------------------


def _before(ctx: HookContext) -> None:
    state = _active(ctx)
    if state is None:
        return
    found = _start_attributes(ctx)
    if found is None:
        return
    name, attributes, client = found
    node = _start(state, ctx, name, attributes, client=client, frame=_guard_frame())
    node.ctx = weakref.ref(ctx)
    _nodes[ctx] = node


def _after(ctx: HookContext) -> None:
    state = _active(ctx)
    if state is None:
        return
    node = _nodes.pop(ctx, None)
    if node is None:
        if not ctx.skipped:
            return
        found = _start_attributes(ctx)  # skipped before this plugin's before hook ran
        if found is None:
            return
        node = _start(state, ctx, found[0], found[1], client=found[2])
    node.span.set_attributes(_end_attributes(ctx))
    _end(state.runs.get(ctx.run.run_id), node)


def _failed(ctx: HookContext) -> None:
    state = _active(ctx)
    if state is None:
        return
    node = _nodes.pop(ctx, None)
    if node is None:
        return
    error = ctx.error
    if ctx.attempt:
        node.span.set_attribute("llmspell.retries", ctx.attempt)
    if error is not None:
        _set_error(node.span, error.code, error.message, error)
    _end(state.runs.get(ctx.run.run_id), node, cause=error)


@hookimpl(priority=PRIORITY)
def llmspell_spell_start(ctx: HookContext) -> None:
    state = _active(ctx)
    if state is None:
        return
    node = _start(state, ctx, f"spell {ctx.name}", {
        "llmspell.spell.name": ctx.name, "llmspell.run_id": ctx.run.run_id,
    })
    _run(state, ctx.run).spell = node


@hookimpl(priority=PRIORITY)
def llmspell_spell_end(ctx: HookContext) -> Any:
    state = _active(ctx)
    if state is None:
        return None
    run = state.runs.pop(ctx.run.run_id, None)
    if run is None:
        return None
    if run.finalizer is not None:
        run.finalizer.detach()
    for node in list(run.live.values()):  # still open: their operations never ended
        if not node.ended and node is not run.spell:
            _leftover(node, ctx.error)
            _end(run, node, detach=False, force=True, cause=ctx.error)
    if run.spell is not None:
        if ctx.error is not None:
            _set_error(run.spell.span, ctx.error.code, ctx.error.message, ctx.error)
        _end(run, run.spell, force=True, cause=ctx.error)
    if state.owned and state.settings.flush_at_spell_end:
        return _flush(state)
    return None


async def _flush(state: _KernelState) -> None:
    import trio

    provider = state.provider
    if provider is None:
        return
    millis = int(state.settings.timeout * 1000)
    await trio.to_thread.run_sync(provider.force_flush, millis, abandon_on_cancel=True)


@hookimpl(priority=PRIORITY)
def llmspell_after_event_emit(ctx: HookContext) -> None:
    if ctx.name == "tool.started" and isinstance(ctx.input, dict) and _active(ctx) is not None:
        tool, call_id = ctx.input.get("tool"), ctx.input.get("call_id")
        if isinstance(tool, str) and isinstance(call_id, str):
            _pending_call.set((tool, call_id))


@hookimpl(priority=PRIORITY)
def llmspell_before_agent(ctx: HookContext) -> None:
    _before(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_after_agent(ctx: HookContext) -> None:
    _after(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_before_workflow(ctx: HookContext) -> None:
    _before(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_after_workflow(ctx: HookContext) -> None:
    _after(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_before_workflow_step(ctx: HookContext) -> None:
    _before(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_after_workflow_step(ctx: HookContext) -> None:
    _after(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_before_llm_call(ctx: HookContext) -> None:
    _before(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_after_llm_call(ctx: HookContext) -> None:
    _after(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_before_tool_call(ctx: HookContext) -> None:
    _before(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_after_tool_call(ctx: HookContext) -> None:
    _after(ctx)


@hookimpl(priority=PRIORITY)
def llmspell_on_error(ctx: HookContext) -> None:
    _failed(ctx)
