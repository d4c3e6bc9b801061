"""Agents: anything that turns an input into a :class:`~llmspell.messages.Result` in a run.

:class:`LLMAgent` is the model-driven agent (instructions, model, tools and the tool-calling
loop, with structured output, history, guardrails and handoffs); :class:`AgentTool` wraps any
agent as a tool so other agents can call it.
"""

from __future__ import annotations

import contextvars
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import trio

from llmspell import history as hist
from llmspell.errors import LlmspellError
from llmspell.handoffs import INCOMING, Handoff, Incoming, handoff_list, take_incoming
from llmspell.history import HistoryPolicy
from llmspell.lifecycle import HookContext, HookDispatcher, HookPoint
from llmspell.messages import Message, Result, ToolCall, Usage
from llmspell.providers import ChatRequest, ModelSpec, StreamChunk, ToolSpec, model_chain
from llmspell.registry import check_name
from llmspell.state.scopes import SCOPE_NAME_RE, parse_scope
from llmspell.templates import MISSING, render
from llmspell.tools import Tool, ToolContext

if TYPE_CHECKING:
    from llmspell.runtime import SpellRun

#: ``fn(ctx) -> None | action``: a guardrail, called like a lifecycle hook (see
#: :mod:`llmspell.lifecycle`); plain or async.
Guardrail = Callable[[HookContext], Any]
OnText = Callable[[str], Awaitable[Any] | Any]

#: Results of the agents run as tools inside one tool call of an :class:`LLMAgent`, so that
#: their usage and agents roll up into the caller's result.
_SUB_RESULTS: contextvars.ContextVar[list[Result] | None] = contextvars.ContextVar(
    "llmspell_sub_results", default=None
)


@runtime_checkable
class Agent(Protocol):
    """The BaseAgent contract: ``await agent.run(input, run)`` returns a ``Result``.

    Run agents through :meth:`llmspell.runtime.SpellRun.run_agent` so that the agent lifecycle
    hooks and events apply.
    """

    name: str
    description: str

    async def run(self, input: Any, run: SpellRun) -> Result: ...


def input_text(value: Any) -> str:
    """An agent input as the text of a user message (non-strings as JSON)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _model_spec(model: ModelSpec) -> str | tuple[str, ...]:
    """A model string as it is, a fallback list as a tuple; ``invalid_value`` otherwise."""
    chain = model_chain(model)
    return model if isinstance(model, str) else chain


def _bad(field: str, expected: str, value: Any) -> LlmspellError:
    return LlmspellError(
        "invalid_value", f"agent {field} must be {expected}, got {value!r}", {"field": field}
    )


def _count(field: str, minimum: int) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _bad(field, f"an integer >= {minimum}", value)

    return check


def _session(_: Any, __: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not SCOPE_NAME_RE.fullmatch(value)):
        raise _bad("session", "1-128 characters of A-Z a-z 0-9 _ . -", value)


def _scope(_: Any, __: Any, value: Any) -> None:
    parse_scope(value)


def _schema(_: Any, __: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _bad("output_schema", "a JSON schema (an object)", value)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise LlmspellError(
            "invalid_value",
            f"agent output_schema is not a valid JSON schema: {exc.message}",
            {"field": "output_schema"},
        ) from None


@attrs.define(eq=False)
class LLMAgent:
    """A model with instructions and tools, run as a tool-calling loop.

    Each turn sends the conversation to ``model`` (a model string or a fallback chain, see
    :meth:`llmspell.runtime.SpellRun.llm_call`); the tool calls of one reply run concurrently
    (one after another, in order, with ``parallel_tools=False``) and their results (or errors, as
    ``{"error": {...}}``) go back to the model; the loop ends with the first reply without tool
    calls, or fails with code ``limit`` after ``max_turns`` model calls.

    - ``instructions`` may hold ``{{key}}`` placeholders, filled on every run from state scope
      ``state_scope`` (see :mod:`llmspell.templates`); a missing key fails with ``not_found``.
    - With ``output_schema`` the final text must be JSON matching it; it becomes ``Result.data``.
      An invalid answer is sent back to the model with the problem, up to ``max_reasks`` times
      (not counted in ``max_turns``); then the run fails with ``invalid_value`` naming it.
    - ``tool_choice`` is sent with the first model call of a run only (later calls use the
      provider's default, so that ``"required"`` cannot loop forever).
    - ``history`` keeps the conversation across runs in state (scope ``agent:<name>``, key
      ``history``; with ``session``, scope ``session:<session>``, key ``history.<name>``), cut
      by its policy after each run (see :mod:`llmspell.history`).
    - ``input_guardrails``/``output_guardrails`` are lifecycle hooks at ``before_agent`` /
      ``after_agent`` of this agent only: they may refuse (``Cancel``: code ``hook_cancelled``),
      rewrite the input or the output (``Modify``; a string output replaces ``Result.text``),
      answer without the model (``Skip``) or ask for a new run (``Retry``, bounded by the
      policy's ``max_hook_retries``).
    - ``handoffs`` (agents or :class:`~llmspell.handoffs.Handoff`) offer ``transfer_to_<name>``
      tools; a transfer gives the conversation to the target, whose answer is the result. A
      run fails with ``limit`` after more than ``max_handoffs`` transfers.

    ``Result.usage`` sums every model call of the run, of the agents called as tools and of
    handoff targets; ``Result.agents`` lists the agents that took part, in order.
    """

    name: str = attrs.field(validator=lambda _, __, v: check_name("agent", v))
    model: str | tuple[str, ...] = attrs.field(converter=_model_spec)
    instructions: str = ""
    description: str = ""
    tools: list[Tool | str] = attrs.field(factory=list)
    output_schema: dict[str, Any] | None = attrs.field(default=None, validator=_schema)
    temperature: float | None = None
    max_turns: int = attrs.field(default=10, validator=_count("max_turns", 1))
    parallel_tools: bool = True
    max_reasks: int = attrs.field(default=2, validator=_count("max_reasks", 0))
    tool_choice: str | None = None
    history: HistoryPolicy | None = None
    session: str | None = attrs.field(default=None, validator=_session)
    state_scope: str = attrs.field(default="global", validator=_scope)
    input_guardrails: list[Guardrail] = attrs.field(factory=list)
    output_guardrails: list[Guardrail] = attrs.field(factory=list)
    handoffs: list[Handoff] = attrs.field(factory=list, converter=handoff_list)
    max_handoffs: int = attrs.field(default=10, validator=_count("max_handoffs", 0))
    _guards: HookDispatcher | None = attrs.field(init=False, default=None, repr=False)

    def resolve_tools(self, run: SpellRun) -> dict[str, Tool]:
        """The tools by name: ``tools`` (names looked up in the kernel) and the handoffs'
        transfer tools; ``invalid_value`` when two share a name."""
        out: dict[str, Tool] = {}
        for t in self.tools:
            tool = run.kernel.tools.get(t) if isinstance(t, str) else t
            out[tool.name] = tool
        for handoff in self.handoffs:
            if handoff.tool_name in out:
                raise LlmspellError(
                    "invalid_value",
                    f"agent {self.name!r}: tool {handoff.tool_name!r} clashes with a handoff",
                    {"agent": self.name, "tool": handoff.tool_name},
                )
            out[handoff.tool_name] = handoff.tool()
        return out

    def history_place(self, run: SpellRun | None = None) -> tuple[str, str]:
        """``(scope, key)`` where this agent's history is kept: its ``session``, else the
        session of ``run`` (``llmspell run --session NAME``), else the agent's own scope."""
        session = self.session if self.session is not None else getattr(run, "session", None)
        if session is not None:
            return f"session:{session}", f"history.{self.name}"
        return f"agent:{self.name}", "history"

    async def run(self, input: Any, run: SpellRun) -> Result:
        return await self._guarded(input, run, None)

    async def stream(self, input: Any, run: SpellRun, on_text: OnText) -> Result:
        """Like :meth:`run`, calling ``on_text(delta)`` with every piece of model text as it
        streams in, in order (tool-calling turns and handoff targets included)."""
        return await self._guarded(input, run, on_text)

    # --- guardrails ----------------------------------------------------------------------------

    def _dispatcher(self, run: SpellRun) -> HookDispatcher:
        if self._guards is None:
            guards = HookDispatcher()
            for i, fn in enumerate(self.input_guardrails):
                guards.register(HookPoint.BEFORE_AGENT, fn, name=f"{self.name}:input[{i}]")
            for i, fn in enumerate(self.output_guardrails):
                guards.register(HookPoint.AFTER_AGENT, fn, name=f"{self.name}:output[{i}]")
            self._guards = guards
        self._guards.max_retries = run.policy.max_hook_retries
        return self._guards

    async def _guarded(self, input: Any, run: SpellRun, on_text: OnText | None) -> Result:
        incoming = take_incoming(self)
        if not (self.input_guardrails or self.output_guardrails):
            return await self._loop(input, run, on_text, incoming)
        produced: list[Result] = []
        inner: list[BaseException] = []

        async def operation(value: Any) -> Result:
            try:
                result = await self._loop(value, run, on_text, incoming)
            except BaseException as exc:
                inner.append(exc)
                raise
            produced.append(result)
            return result

        try:
            out = await self._dispatcher(run).guard(
                "agent", self.name, input, operation, run_id=run.run_id
            )
        except LlmspellError as err:
            if err.code != "hook_cancelled" or err in inner:
                raise
            which = "output" if produced else "input"
            reason = err.details.get("reason", "")
            raise LlmspellError(
                "hook_cancelled",
                f"agent {self.name!r}: the {which} guardrail refused: {reason}",
                {"agent": self.name, "guardrail": which, "reason": reason},
            ) from None
        return self._as_result(out, produced[-1] if produced else None)

    def _as_result(self, value: Any, base: Result | None) -> Result:
        """A guardrail's output as a Result: a string replaces the text, an object its
        ``text``/``data`` fields."""
        if isinstance(value, Result):
            return value
        base = base if base is not None else Result(agents=[self.name])
        if isinstance(value, str):
            return attrs.evolve(base, text=value)
        if isinstance(value, dict):
            changes = {k: value[k] for k in ("text", "data") if k in value}
            return attrs.evolve(base, **changes)
        if value is None:
            return base
        return attrs.evolve(base, text=input_text(value))

    # --- the loop ------------------------------------------------------------------------------

    async def _instructions(self, run: SpellRun, passed: dict[str, Any]) -> str:
        async def lookup(key: str) -> Any:
            if key in passed:
                return passed[key]
            return await run.state_get(key, self.state_scope, MISSING)

        def missing(key: str) -> LlmspellError:
            return LlmspellError(
                "not_found",
                f"agent {self.name!r}: instructions placeholder {{{{{key}}}}} names no key in "
                f"state scope {self.state_scope!r}",
                {"agent": self.name, "key": key, "scope": self.state_scope},
                hint="set the key before running the agent, or change state_scope",
            )

        return await render(self.instructions, lookup, missing)

    async def _start(
        self, input: Any, run: SpellRun, incoming: Incoming | None
    ) -> tuple[list[Message], int]:
        """The first request's messages, and the index of the first message of this run's own
        (the one after the history or the passed conversation)."""
        messages: list[Message] = []
        instructions = await self._instructions(run, incoming.state if incoming else {})
        if instructions:
            messages.append(Message("system", instructions))
        if incoming is not None:
            if incoming.state:
                context = json.dumps(incoming.state, ensure_ascii=False)
                messages.append(Message("system", f"Context passed on by the previous agent: "
                                                  f"{context}"))
            passed = list(incoming.messages)
            text = input_text(input)
            if text != incoming.input:  # a hook or guardrail rewrote the input
                at = max((i for i, m in enumerate(passed) if m.role == "user"), default=None)
                if at is None:
                    passed.append(Message("user", text))
                else:
                    passed[at] = attrs.evolve(passed[at], content=text)
            messages.extend(passed)
            incoming.offset = len(messages)
            return messages, len(messages)
        if self.history is not None:
            scope, key = self.history_place(run)
            stored = await run.state_get(key, scope)
            messages.extend(hist.from_data(stored, f"{scope}/{key}"))
        start = len(messages)
        messages.append(Message("user", input_text(input)))
        return messages, start

    async def _loop(
        self, input: Any, run: SpellRun, on_text: OnText | None, incoming: Incoming | None
    ) -> Result:
        tools = self.resolve_tools(run)
        specs = [ToolSpec(t.name, t.description, t.parameters) for t in tools.values()]
        transfers = {h.tool_name: h for h in self.handoffs}
        messages, start = await self._start(input, run, incoming)
        usage = Usage()
        calls: list[dict[str, Any]] = []
        agents = [self.name]
        turns = reasks = 0
        deliver = None if on_text is None else _deliverer(on_text)
        while True:
            if turns >= self.max_turns:
                raise LlmspellError(
                    "limit",
                    f"agent {self.name!r} reached max_turns={self.max_turns} without a final "
                    "answer",
                    {"agent": self.name, "max_turns": self.max_turns},
                )
            request = ChatRequest(
                model=model_chain(self.model)[0],
                messages=list(messages),
                tools=specs,
                tool_choice=self.tool_choice if turns == 0 and not reasks else None,
                output_schema=self.output_schema,
                temperature=self.temperature,
            )
            turns += 1
            if deliver is None:
                response = await run.llm_call(self.model, request)
            else:
                response = await run.llm_stream(self.model, request, deliver)
            usage = usage + response.usage
            messages.append(response.message)
            if not response.tool_calls:
                data, problem = self._check_output(response.text)
                if problem is not None:
                    if reasks >= self.max_reasks:
                        raise self._invalid_output(problem, response.text, reasks)
                    reasks += 1
                    turns -= 1
                    messages.append(Message("user", _reask_text(problem)))
                    continue
                result = Result(
                    text=response.text, data=data, usage=usage, tool_calls=calls,
                    messages=messages, agents=agents,
                )
                if incoming is None:
                    await self._save_history(run, result.messages[start:])
                return result
            contents, subs = await self._call_tools(run, tools, response.tool_calls)
            transfer: Handoff | None = None
            for call, content, sub in zip(response.tool_calls, contents, subs, strict=True):
                calls.append({**call.to_dict(), "result": content})
                messages.append(
                    Message("tool", json.dumps(content, ensure_ascii=False),
                            tool_call_id=call.id, name=call.name)
                )
                for child in sub:
                    usage = usage + child.usage
                    agents.extend(child.agents)
                failed = isinstance(content, dict) and "error" in content
                if transfer is None and call.name in transfers and not failed:
                    transfer = transfers[call.name]
            if transfer is not None:
                result = await self._hand_off(
                    run, transfer, messages, on_text, incoming,
                    Result(usage=usage, tool_calls=calls, agents=agents),
                )
                if incoming is None:
                    await self._save_history(run, result.messages[start:])
                return result

    def _check_output(self, text: str) -> tuple[Any, str | None]:
        """``(data, None)`` for a valid answer, ``(None, problem)`` otherwise."""
        if self.output_schema is None:
            return None, None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, f"is not JSON ({exc.msg})"
        from jsonschema import Draft202012Validator

        error = next(iter(Draft202012Validator(self.output_schema).iter_errors(data)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            at = f" at /{where}" if where else ""
            return None, f"does not match the output schema: {error.message}{at}"
        return data, None

    def _invalid_output(self, problem: str, text: str, reasks: int) -> LlmspellError:
        after = f" (after {reasks} re-ask{'s' if reasks != 1 else ''})" if reasks else ""
        return LlmspellError(
            "invalid_value",
            f"agent {self.name!r}: the model's answer {problem}{after}",
            {"agent": self.name, "problem": problem, "reasks": reasks, "text": text[:500]},
        )

    async def _call_tools(
        self, run: SpellRun, tools: dict[str, Tool], calls: tuple[ToolCall, ...]
    ) -> tuple[list[Any], list[list[Result]]]:
        """The results of ``calls`` in order, and the results of the agents each one ran."""
        results: list[Any] = [None] * len(calls)
        subs: list[list[Result]] = [[] for _ in calls]

        async def one(i: int, call: ToolCall) -> None:
            token = _SUB_RESULTS.set(subs[i])
            try:
                if call.name not in tools:
                    raise LlmspellError(
                        "not_found",
                        f"agent {self.name!r} has no tool {call.name!r}",
                        {"tool": call.name, "known": sorted(tools)},
                    )
                results[i] = await run.call_tool(tools[call.name], call.arguments, call_id=call.id)
            except LlmspellError as err:
                results[i] = {"error": err.to_dict()}
            finally:
                _SUB_RESULTS.reset(token)

        if self.parallel_tools and len(calls) > 1:
            async with trio.open_nursery() as nursery:
                for i, call in enumerate(calls):
                    nursery.start_soon(one, i, call)
        else:
            for i, call in enumerate(calls):
                await one(i, call)
        return results, subs

    # --- handoffs and history ------------------------------------------------------------------

    async def _hand_off(
        self,
        run: SpellRun,
        handoff: Handoff,
        messages: list[Message],
        on_text: OnText | None,
        incoming: Incoming | None,
        so_far: Result,
    ) -> Result:
        chain = [*(incoming.chain if incoming else []), self.name]
        limit = incoming.limit if incoming else self.max_handoffs
        target = handoff.agent
        if len(chain) > limit:
            path = " -> ".join([*chain, target.name])
            raise LlmspellError(
                "limit",
                f"agent {self.name!r}: more than max_handoffs={limit} handoffs ({path})",
                {"agent": self.name, "max_handoffs": limit, "chain": [*chain, target.name]},
            )
        passed = hist.last_messages(messages, handoff.keep_last)
        state: dict[str, Any] = {}
        for key in handoff.state_keys:
            value = await run.state_get(key, self.state_scope, MISSING)
            if value is not MISSING:
                state[key] = value
        text = next((m.content for m in reversed(passed) if m.role == "user"), "")
        await run.emit("agent.handoff", {"agent": self.name, "to": target.name,
                                         "messages": len(passed), "state_keys": sorted(state)})
        streams = on_text is not None and hasattr(target, "stream")
        if isinstance(target, LLMAgent):
            record = Incoming(target, passed, state, text, chain, limit)
            token = INCOMING.set(record)
            try:
                sub = await run.run_agent(target, text, on_text=on_text if streams else None)
            finally:
                INCOMING.reset(token)
            added = sub.messages[record.offset:] if record.offset is not None else None
        else:
            sub = await run.run_agent(target, text, on_text=on_text if streams else None)
            added = None
        if added is None:
            added = [Message("assistant", sub.text)]
        return Result(
            text=sub.text,
            data=sub.data,
            usage=so_far.usage + sub.usage,
            tool_calls=[*so_far.tool_calls, *sub.tool_calls],
            messages=[*messages, *added],
            agents=[*so_far.agents, *sub.agents],
        )

    async def _save_history(self, run: SpellRun, new: list[Message]) -> None:
        policy = self.history
        if policy is None:
            return
        scope, key = self.history_place(run)
        fresh = [m for m in new if m.role != "system"]

        def append(old: Any) -> Any:
            return hist.to_data(policy.trim(hist.from_data(old, f"{scope}/{key}") + fresh))

        await run.state_update(key, append, scope)


def _deliverer(on_text: OnText) -> Callable[[StreamChunk], Awaitable[None]]:
    async def deliver(chunk: StreamChunk) -> None:
        if chunk.text:
            out = on_text(chunk.text)
            if inspect.isawaitable(out):
                await out

    return deliver


def _reask_text(problem: str) -> str:
    return (
        f"Your answer {problem}. Answer again with only a JSON value that matches the output "
        "schema."
    )


def agent_tool(agent: Agent, *, name: str | None = None, description: str | None = None) -> Tool:
    """``agent`` as a tool taking ``{"input": string}`` and returning the agent's ``data`` when
    it has structured output, else its text. Called by an :class:`LLMAgent`, the agent's usage
    and agents roll up into the caller's result."""

    async def run_agent(args: dict[str, Any], ctx: ToolContext) -> Any:
        sink = _SUB_RESULTS.get()
        token = _SUB_RESULTS.set(None)  # the agent's own tool calls collect for it, not for us
        try:
            result = await ctx.run.run_agent(agent, args["input"])
        finally:
            _SUB_RESULTS.reset(token)
        if sink is not None:
            sink.append(result)
        return result.data if result.data is not None else result.text

    return Tool(
        name=name or agent.name,
        description=description or agent.description or f"Ask the agent {agent.name!r}.",
        run=run_agent,
        parameters={
            "type": "object",
            "properties": {"input": {"type": "string", "description": "what to ask the agent"}},
            "required": ["input"],
        },
        category="agent",
    )


#: The name by which the Agent-as-Tool wrapper is known in the design.
AgentTool = agent_tool
