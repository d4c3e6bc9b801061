"""The spell API, defined once: every host operation a script can ask for.

Each operation is an async Python function ``fn(session, *args)`` taking and returning JSON-like
data; parameters of kind ``function`` receive a :class:`~llmspell.scripting.session.Callback`
made by the engine from a script function. Engines bind these operations to their globals with a
prelude (``Tool.call(name, args)`` -> ``tool.call``); ``llmspell api --json`` prints the table.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, HookPoint
from llmspell.scripting.session import ScriptSession, check_seconds
from llmspell.specpath import Where, describe
from llmspell.tools import Tool, ToolContext, matches

log = logging.getLogger("llmspell.spell")

OpFunction = Callable[..., Awaitable[Any]]


@attrs.define(frozen=True)
class Param:
    """A parameter: ``kind`` is ``any``, ``string``, ``number``, ``object``, ``array``,
    ``function`` or ``handle``; optional ones may be omitted (``None``)."""

    name: str
    kind: str = "any"
    optional: bool = False


@attrs.define(frozen=True)
class HostOp:
    """One host operation. ``waits`` is false for operations that complete immediately
    (engines may call those without yielding)."""

    name: str
    params: tuple[Param, ...]
    doc: str
    fn: OpFunction
    waits: bool = True
    #: how many leading parameters are required
    required: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "required", sum(1 for p in self.params if not p.optional))

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": [attrs.asdict(p) for p in self.params],
            "doc": self.doc,
            "waits": self.waits,
        }


HOST_OPS: dict[str, HostOp] = {}


def _param(text: str) -> Param:
    name, _, kind = text.partition(":")
    optional = name.endswith("?")
    return Param(name.rstrip("?"), kind or "any", optional)


def op(name: str, *params: str, waits: bool = True) -> Callable[[OpFunction], OpFunction]:
    """Register ``fn`` as host operation ``name`` with ``params`` written ``"name:kind"``
    (``"name?:kind"`` for optional ones); the docstring's first line is its doc."""

    def register(fn: OpFunction) -> OpFunction:
        doc = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        HOST_OPS[name] = HostOp(name, tuple(_param(p) for p in params), doc, fn, waits)
        return fn

    return register


def api_table() -> list[dict[str, Any]]:
    """The operation table as JSON data, sorted by name."""
    return [HOST_OPS[n].spec() for n in sorted(HOST_OPS)]


async def call_op(session: ScriptSession, name: str, args: list[Any]) -> Any:
    """Run operation ``name`` with positional ``args`` (missing optional ones are ``None``);
    an unknown name or a wrong argument count is ``invalid_args``. When the run keeps a
    ``trace``, the call is appended to it as ``(name, args)`` first."""
    hop = HOST_OPS.get(name)
    if hop is None:
        from llmspell.errors import not_found

        raise not_found("host operation", name, HOST_OPS)
    required = hop.required
    if not required <= len(args) <= len(hop.params):
        raise LlmspellError(
            "invalid_args",
            f"{name} takes {required}..{len(hop.params)} arguments, got {len(args)}",
            {"operation": name},
        )
    padded = list(args) + [None] * (len(hop.params) - len(args))
    trace = session.run.trace
    if trace is not None:
        trace.append((name, padded))
    return await hop.fn(session, *padded)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise LlmspellError(
            "invalid_args", f"{what} must be a non-empty string, got {value!r}", {"argument": what}
        )
    return value


def _obj(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LlmspellError(
            "invalid_args", f"{what} must be an object/table, got {type(value).__name__}",
            {"argument": what},
        )
    return value


# --- Tool -------------------------------------------------------------------------------------


def find_tool(session: ScriptSession, name: str) -> Tool:
    """A tool defined by this spell, else a registered one."""
    local = session.run.local_tools.get(name)
    return local if local is not None else session.run.kernel.tools.get(name)


@op("tool.call", "name:string", "args?:object")
async def tool_call(session: ScriptSession, name: Any, args: Any) -> Any:
    """Call a tool with an argument object; returns its result."""
    tool = find_tool(session, _text(name, "tool name"))
    return await session.run.call_tool(tool, {} if args is None else args)


@op("tool.list", "filter?:any", waits=False)
async def tool_list(session: ScriptSession, filter: Any) -> Any:
    """List tools (optionally of a category, or ``{category=, text=}``) as specs."""
    spec = {"category": filter} if isinstance(filter, str) else _obj(filter, "filter")
    tools = session.run.kernel.tools.filter(spec.get("category"), spec.get("text"))
    local = [
        t for t in session.run.local_tools.values()
        if matches(t, spec.get("category"), spec.get("text"))
    ]
    return [t.spec() for t in local + tools]


@op("tool.info", "name:string", waits=False)
async def tool_info(session: ScriptSession, name: Any) -> Any:
    """A tool's spec: name, description, parameters, category, permissions, example."""
    return find_tool(session, _text(name, "tool name")).spec()


@op("tool.define", "spec:object", "fn:function", waits=False)
async def tool_define(session: ScriptSession, spec: Any, fn: Any) -> Any:
    """Define a tool implemented by a script function ``fn(args)``; returns its spec."""
    spec = _obj(spec, "tool spec")

    async def run(args: dict[str, Any], ctx: ToolContext) -> Any:
        return await fn(args)

    tool = Tool(
        name=_text(spec.get("name"), "tool name"),
        description=str(spec.get("description") or ""),
        run=run,
        parameters=spec.get("parameters") or {"type": "object", "properties": {}},
        category=str(spec.get("category") or "script"),
    )
    session.run.local_tools[tool.name] = tool
    return tool.spec()


# --- Agent ------------------------------------------------------------------------------------


def _agent_ref(session: ScriptSession, agent: Any) -> dict[str, Any]:
    return session.new_handle("agent", agent, name=agent.name)


@op("agent.create", "spec:object", "input_guardrail?:function", "output_guardrail?:function",
    waits=False)
async def agent_create(
    session: ScriptSession, spec: Any, input_guardrail: Any, output_guardrail: Any
) -> Any:
    """Create an LLM agent from ``{name, model, instructions, tools, output_schema,
    temperature, max_turns, parallel_tools, max_reasks, tool_choice, history, session,
    state_scope, guardrails, handoffs, max_handoffs}``; returns an agent handle.

    Fields are checked one by one (``invalid_args`` naming the field); see
    :mod:`llmspell.scripting.agent_spec`. The guardrail functions may also come as the
    optional arguments (engines that pass functions only as arguments do so).
    """
    from llmspell.scripting.agent_spec import build_agent, merge_guardrails

    spec = merge_guardrails(_obj(spec, "agent spec"), input_guardrail, output_guardrail)
    agent = build_agent(session, spec)
    session.run.agents[agent.name] = agent
    return _agent_ref(session, agent)


@op("agent.get", "name:string", waits=False)
async def agent_get(session: ScriptSession, name: Any) -> Any:
    """The handle of an agent this spell created, by name."""
    from llmspell.errors import not_found

    name = _text(name, "agent name")
    if name not in session.run.agents:
        raise not_found("agent", name, session.run.agents)
    return _agent_ref(session, session.run.agents[name])


@op("agent.list", waits=False)
async def agent_list(session: ScriptSession) -> Any:
    """Names of the agents this spell created."""
    return sorted(session.run.agents)


@op("agent.run", "agent:handle", "input:any", "opts?:object")
async def agent_run(session: ScriptSession, agent: Any, input: Any, opts: Any) -> Any:
    """Run an agent (or workflow) on an input; returns ``{text, data, usage, tool_calls,
    messages, agents}``. ``opts.session`` keeps an LLM agent's history in that session."""
    from llmspell.scripting.agent_spec import RUN_OPTIONS, check_fields, session_name

    target = _runnable(session, agent)
    opts = _obj(opts, "run options")
    if opts:
        check_fields(opts, RUN_OPTIONS, "agent:run options")
        name = session_name(opts.get("session"), "session", "agent:run options")
        from llmspell.agents import LLMAgent

        if name is not None and isinstance(target, LLMAgent):
            target = attrs.evolve(target, session=name)
    result = await session.run.run_agent(target, input)
    return result.to_dict()


@op("agent.stream", "agent:handle", "input:any", "on_chunk:function")
async def agent_stream(session: ScriptSession, agent: Any, input: Any, on_chunk: Any) -> Any:
    """Run an agent, calling ``on_chunk(text)`` with each piece of model text as it arrives;
    returns the result like ``agent.run``."""
    target = _runnable(session, agent)
    return (await session.run.run_agent(target, input, on_text=on_chunk)).to_dict()


def _runnable(session: ScriptSession, ref: Any) -> Any:
    kind = ref.get("kind") if isinstance(ref, dict) else None
    return session.resolve(ref, "workflow" if kind == "workflow" else "agent")


@op("agent.as_tool", "agent:handle", "spec?:object", waits=False)
async def agent_as_tool(session: ScriptSession, agent: Any, spec: Any) -> Any:
    """Wrap an agent as a tool usable by name (``{name, description}`` optional)."""
    from llmspell.agents import agent_tool

    spec = _obj(spec, "tool spec")
    tool = agent_tool(
        _runnable(session, agent), name=spec.get("name"), description=spec.get("description")
    )
    session.run.local_tools[tool.name] = tool
    return tool.spec()


# --- Workflow ---------------------------------------------------------------------------------
# The spec schema and its checks are shared with workflow files: see llmspell.workflow_specs.


@attrs.define
class _ScriptTargets:
    """Step targets of a spell: script functions, agent and workflow handles, tool names."""

    session: ScriptSession
    target_keys: tuple[str, ...] = ("fn", "agent", "workflow", "tool")
    sort_branches: bool = True  # a Lua table has no order: name order in every engine

    def bare(self, item: Any, where: Where) -> tuple[str | None, Any] | None:
        if callable(item):
            return getattr(item, "step_name", None), self.function(item, where)
        if isinstance(item, dict) and "__handle" in item:
            return self.target("agent", item, where)
        if isinstance(item, dict):
            return None
        raise where.error(
            f"must be a function, an agent, a workflow or a step table, got {describe(item)}"
        )

    def target(self, key: str, value: Any, where: Where) -> tuple[str | None, Any]:
        if key == "fn":
            return None, self.function(value, where)
        kind = value.get("kind") if isinstance(value, dict) else None
        if kind not in (("agent", "workflow") if key == "agent" else ("workflow",)):
            expected = "an agent or a workflow" if key == "agent" else "a workflow"
            raise where.error(f"must be {expected}, got {describe(value)}")
        target = _runnable(self.session, value)
        return target.name, target

    def tool(self, name: Any, where: Where) -> Tool:
        try:
            return find_tool(self.session, where.text(name))
        except LlmspellError as err:
            if err.code != "not_found":
                raise
            raise LlmspellError("not_found", f"{where.root}: {where.path}: {err.message}",
                                {**err.details, "key": where.path}) from None

    def function(self, value: Any, where: Where) -> Any:
        if not callable(value):
            raise where.error(f"must be a function, got {describe(value)}")

        async def call(arg: Any, run: Any, fn: Any = value) -> Any:
            return await fn(arg)

        return call


def _workflow(session: ScriptSession, kind: str, spec: Any) -> Any:
    from llmspell.workflow_specs import build_workflow  # on first use (start-up time)

    where = Where(f"Workflow.{kind}", camel=True)  # JS spells may write maxDelay, notEquals
    flow = build_workflow(kind, spec, where, _ScriptTargets(session), default_name=kind)
    return session.new_handle("workflow", flow, name=flow.name)


@op("workflow.sequential", "spec:object", waits=False)
async def workflow_sequential(session: ScriptSession, spec: Any) -> Any:
    """A sequential workflow from ``{name, steps, on_error}``; each step gets the previous
    step's output unless its ``input`` says otherwise; returns a workflow handle."""
    return _workflow(session, "sequential", spec)


@op("workflow.parallel", "spec:object", waits=False)
async def workflow_parallel(session: ScriptSession, spec: Any) -> Any:
    """A parallel workflow from ``{name, branches, max_concurrency, fail_fast, on_error}``;
    branches are a list or a table of named steps; the result's data maps branch names to
    outputs."""
    return _workflow(session, "parallel", spec)


@op("workflow.conditional", "spec:object", waits=False)
async def workflow_conditional(session: ScriptSession, spec: Any) -> Any:
    """A conditional workflow from ``{name, branches = {{when = fn or condition, step = ...},
    ...}, default, on_error}``: the first branch whose ``when`` holds for the input runs."""
    return _workflow(session, "conditional", spec)


@op("workflow.loop", "spec:object", waits=False)
async def workflow_loop(session: ScriptSession, spec: Any) -> Any:
    """A loop workflow from ``{name, body, until, while, max_iterations, on_error}``
    (``on_error`` ``"fail"``, ``"continue"`` or ``"break"``)."""
    return _workflow(session, "loop", spec)


@op("workflow.run", "workflow:handle", "input:any")
async def workflow_run(session: ScriptSession, workflow: Any, input: Any) -> Any:
    """Run a workflow; returns its result like ``agent.run``."""
    flow = session.resolve(workflow, "workflow")
    return (await session.run.run_agent(flow, input)).to_dict()


# --- State ------------------------------------------------------------------------------------


@op("state.get", "key:string", "scope?:string")
async def state_get(session: ScriptSession, key: Any, scope: Any) -> Any:
    """The value of ``key`` in ``scope`` (default ``global``), or null."""
    return await session.run.state_get(key, scope or "global")


@op("state.set", "key:string", "value:any", "scope?:string")
async def state_set(session: ScriptSession, key: Any, value: Any, scope: Any) -> Any:
    """Set ``key`` to a JSON value in ``scope`` (default ``global``)."""
    await session.run.state_set(key, value, scope or "global")


@op("state.delete", "key:string", "scope?:string")
async def state_delete(session: ScriptSession, key: Any, scope: Any) -> Any:
    """Delete ``key``; returns whether it existed."""
    return await session.run.state_delete(key, scope or "global")


@op("state.keys", "scope?:string")
async def state_keys(session: ScriptSession, scope: Any) -> Any:
    """The key names of ``scope`` (default ``global``)."""
    return await session.run.state_keys(scope or "global")


# --- Artifact ---------------------------------------------------------------------------------
# Content crosses as text: UTF-8 text as it is, bytes as base64 (``encoding``).

#: base64 text longer than this is decoded/encoded in a worker thread
_THREAD_CHARS = 1 << 20


def _artifact_opts(value: Any, known: tuple[str, ...], op: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LlmspellError(
            "invalid_value", f"{op}: options must be an object/table, got {describe(value)}",
            {"argument": "opts"},
        )
    from llmspell.errors import did_you_mean

    for key in value:
        if key not in known:
            raise LlmspellError(
                "invalid_value", f"{op}: unknown option {key!r}{did_you_mean(key, known)}",
                {"argument": key, "known": list(known)},
            )
    return value


async def _in_thread_if_big(size: int, fn: Callable[[], Any]) -> Any:
    if size <= _THREAD_CHARS:
        return fn()
    import trio

    return await trio.to_thread.run_sync(fn)


@op("artifact.save", "name:string", "content:string", "opts?:object")
async def artifact_save(session: ScriptSession, name: Any, content: Any, opts: Any) -> Any:
    """Save the next version of artifact ``name``; ``opts``: ``media_type`` (default
    ``text/plain``, or ``application/octet-stream`` for base64), ``encoding`` (``"text"`` or
    ``"base64"``), ``metadata`` (an object). Returns ``{name, version, media_type, size,
    sha256, created_at, run_id, session, metadata}``."""
    from llmspell.artifacts import check_name

    opts = _artifact_opts(opts, ("media_type", "encoding", "metadata"), "Artifact.save")
    name = check_name(name)
    if not isinstance(content, str):
        raise LlmspellError(
            "invalid_value", f"Artifact.save: content must be a string (text, or base64 with "
            f"encoding = \"base64\"), got {describe(content)}", {"argument": "content"},
        )
    encoding = opts.get("encoding") or "text"
    data: str | bytes = content
    if encoding == "base64":
        import base64
        import binascii

        def decode() -> bytes:
            try:
                return base64.b64decode("".join(content.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise LlmspellError(
                    "invalid_value", f"Artifact.save: content of {name!r} is not base64: {exc}",
                    {"argument": "content", "name": name},
                ) from None

        data = await _in_thread_if_big(len(content), decode)
    elif encoding != "text":
        raise LlmspellError(
            "invalid_value", f"Artifact.save: encoding must be 'text' or 'base64', got "
            f"{encoding!r}", {"argument": "encoding"},
        )
    info = await session.run.artifact_save(
        name, data, media_type=opts.get("media_type"), metadata=opts.get("metadata")
    )
    return info.to_dict()


@op("artifact.load", "name:string", "opts?:any")
async def artifact_load(session: ScriptSession, name: Any, opts: Any) -> Any:
    """Load artifact ``name`` (``opts``: ``{version}`` or a version number; default the
    latest); returns its description plus ``content`` and ``encoding`` (``"text"``, or
    ``"base64"`` for bytes that are not text)."""
    from llmspell.artifacts import check_version

    if isinstance(opts, int | float) and not isinstance(opts, bool):
        opts = {"version": opts}
    opts = _artifact_opts(opts, ("version",), "Artifact.load")
    artifact = await session.run.artifact_load(name, check_version(opts.get("version")))
    return await _in_thread_if_big(artifact.size, artifact.to_dict)


@op("artifact.list", "opts?:object")
async def artifact_list(session: ScriptSession, opts: Any) -> Any:
    """Describe the latest version of every artifact, sorted by name; ``opts``: ``prefix``,
    ``all_versions`` (every version), ``run_id`` or ``current_run`` (only what that run, or
    this one, saved)."""
    opts = _artifact_opts(
        opts, ("prefix", "all_versions", "run_id", "current_run"), "Artifact.list"
    )
    run_id = session.run.run_id if opts.get("current_run") else opts.get("run_id")
    infos = await session.run.artifact_list(
        opts.get("prefix"), run_id=run_id, all_versions=bool(opts.get("all_versions"))
    )
    return [info.to_dict() for info in infos]


# --- Event ------------------------------------------------------------------------------------


def event_data(event: Any) -> dict[str, Any]:
    return {"topic": event.topic, "data": event.data, "seq": event.seq,
            "timestamp": event.timestamp}


@op("event.emit", "topic:string", "data?:any")
async def event_emit(session: ScriptSession, topic: Any, data: Any) -> Any:
    """Publish an event; returns its sequence number."""
    return (await session.run.emit(_text(topic, "event topic"), data)).seq


@op("event.on", "pattern:string", "fn:function", waits=False)
async def event_on(session: ScriptSession, pattern: Any, fn: Any) -> Any:
    """Call ``fn(event)`` for every matching event, in order, until ``event.off``."""
    sub = session.run.events.subscribe(_text(pattern, "event pattern"))

    async def deliver() -> None:
        async for event in sub:
            await fn(event_data(event))

    session.run.spawn(deliver, name=f"event.on:{pattern}")
    session.closers.append(sub.close)
    return session.new_handle("subscription", sub, pattern=pattern)


@op("event.off", "handle:handle", waits=False)
async def event_off(session: ScriptSession, handle: Any) -> Any:
    """Stop a subscription made with ``event.on``."""
    session.drop(handle, "subscription").close()


@op("event.wait", "pattern:string", "timeout?:number")
async def event_wait(session: ScriptSession, pattern: Any, timeout: Any) -> Any:
    """The next matching event; code ``timeout`` after ``timeout`` seconds."""
    seconds = None if timeout is None else check_seconds(timeout, "Event.wait")
    return event_data(await session.run.events.wait(_text(pattern, "event pattern"), seconds))


# --- Hook -------------------------------------------------------------------------------------


def hook_view(ctx: HookContext) -> dict[str, Any]:
    """What a script hook sees of a hook context (JSON data)."""

    def plain(value: Any) -> Any:
        to_dict = getattr(value, "to_dict", None)
        if to_dict is not None:
            return to_dict()
        if attrs.has(type(value)):
            return attrs.asdict(value)
        return value

    return {
        "point": ctx.point.value, "kind": ctx.kind, "name": ctx.name,
        "input": plain(ctx.input), "output": plain(ctx.output),
        "error": ctx.error.to_dict() if ctx.error else None,
        "attempt": ctx.attempt, "skipped": ctx.skipped,
    }


@op("hook.on", "point:string", "fn:function", "opts?:object", waits=False)
async def hook_on(session: ScriptSession, point: Any, fn: Any, opts: Any) -> Any:
    """Run ``fn(ctx)`` at a lifecycle point; it returns nothing (continue) or an action
    ``{action = "modify"|"skip"|"cancel"|"retry", ...}``."""
    opts = _obj(opts, "hook options")
    hp = HookPoint.parse(_text(point, "hook point"))

    async def script_hook(ctx: HookContext) -> Any:
        return await fn(hook_view(ctx))

    handle = session.run.hooks.register(
        hp, script_hook, priority=int(opts.get("priority") or 0),
        name=str(opts.get("name") or f"{session.filename}:{hp.value}"),
    )
    session.closers.append(lambda: session.run.hooks.unregister(handle))
    return session.new_handle("hook", handle, point=hp.value)


@op("hook.off", "handle:handle", waits=False)
async def hook_off(session: ScriptSession, handle: Any) -> Any:
    """Remove a hook added with ``hook.on``."""
    return session.run.hooks.unregister(session.drop(handle, "hook"))


# --- Task -------------------------------------------------------------------------------------


@op("task.spawn", "fn:function", waits=False)
async def task_spawn(session: ScriptSession, fn: Any) -> Any:
    """Start ``fn`` concurrently; returns a task handle."""
    record = session.spawn(fn, getattr(fn, "name", "task"))
    return session.task_ref(record)


@op("task.wait", "task:handle")
async def task_wait(session: ScriptSession, task: Any) -> Any:
    """The task's result, or its error (code ``cancelled`` if it was cancelled)."""
    return await session.wait(session.resolve(task, "task"))


@op("task.cancel", "task:handle", waits=False)
async def task_cancel(session: ScriptSession, task: Any) -> Any:
    """Cancel a task (and its in-flight host calls)."""
    session.cancel(session.resolve(task, "task"))


@op("task.all", "items:array")
async def task_all(session: ScriptSession, items: Any) -> Any:
    """Results of functions/tasks in list order; the first failure cancels the rest."""
    return await session.all(list(items or []))


@op("task.race", "items:array")
async def task_race(session: ScriptSession, items: Any) -> Any:
    """The first function/task to finish; the rest are cancelled."""
    return await session.race(list(items or []))


@op("task.timeout", "seconds:number", "fn:function")
async def task_timeout(session: ScriptSession, seconds: Any, fn: Any) -> Any:
    """Run ``fn``; cancel it after ``seconds`` with code ``timeout``."""
    return await session.timeout(seconds, fn)


@op("task.sleep", "seconds:number")
async def task_sleep(session: ScriptSession, seconds: Any) -> Any:
    """Wait ``seconds`` (0 yields to other tasks and completed host operations)."""
    import trio

    await trio.sleep(check_seconds(seconds, "Task.sleep"))


# --- Log / print ------------------------------------------------------------------------------

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "error": logging.ERROR}


@op("log", "level:string", "message:string", "data?:any", waits=False)
async def log_op(session: ScriptSession, level: Any, message: Any, data: Any) -> Any:
    """Log a message at ``debug``/``info``/``warn``/``error`` (to stderr, never stdout)."""
    if level not in LEVELS:
        raise LlmspellError(
            "invalid_args", f"log level {level!r}; use one of {sorted(LEVELS)}",
            {"argument": "level"},
        )
    log.log(LEVELS[level], "%s%s", message, "" if data is None else f" {data!r}")
    await session.run.emit(f"log.{level}", {"message": str(message), "data": data})


@op("print", "text:string", waits=False)
async def print_op(session: ScriptSession, text: Any) -> Any:
    """Write a line of the spell's output (stdout)."""
    session.output(str(text))
