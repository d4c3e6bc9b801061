"""Agents: anything that turns an input into a :class:`~llmspell.messages.Result` in a run.

:class:`LLMAgent` is the model-driven agent (instructions, model, tools and the tool-calling
loop); :class:`AgentTool` wraps any agent as a tool so other agents can call it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import trio

from llmspell.errors import LlmspellError
from llmspell.messages import Message, Result, ToolCall, Usage
from llmspell.providers import ChatRequest, ModelSpec, StreamChunk, ToolSpec, model_chain
from llmspell.registry import check_name
from llmspell.tools import Tool, ToolContext

if TYPE_CHECKING:
    from llmspell.runtime import SpellRun


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


@attrs.define(eq=False)
class LLMAgent:
    """A model with instructions and tools, run as a tool-calling loop.

    Each turn sends the conversation to ``model``; the tool calls of one reply run concurrently
    and their results (or errors, as ``{"error": {...}}``) go back to the model; the loop ends
    with the first reply without tool calls, or fails with code ``limit`` after ``max_turns``.
    With ``output_schema`` the final text must be JSON matching it; it becomes ``Result.data``.
    ``tools`` holds :class:`Tool` objects or names of registered tools. ``model`` is a model
    string or a fallback chain (see :meth:`llmspell.runtime.SpellRun.llm_call`).
    """

    name: str = attrs.field(validator=lambda _, __, v: check_name("agent", v))
    model: str | tuple[str, ...] = attrs.field(converter=_model_spec)
    instructions: str = ""
    description: str = ""
    tools: list[Tool | str] = attrs.field(factory=list)
    output_schema: dict[str, Any] | None = None
    temperature: float | None = None
    max_turns: int = 10

    def resolve_tools(self, run: SpellRun) -> dict[str, Tool]:
        out = {}
        for t in self.tools:
            tool = run.kernel.tools.get(t) if isinstance(t, str) else t
            out[tool.name] = tool
        return out

    async def run(self, input: Any, run: SpellRun) -> Result:
        return await self._loop(input, run, None)

    async def stream(
        self, input: Any, run: SpellRun, on_text: Callable[[str], Awaitable[Any] | Any]
    ) -> Result:
        """Like :meth:`run`, calling ``on_text(delta)`` with every piece of model text as it
        streams in (tool-calling turns included)."""
        return await self._loop(input, run, on_text)

    async def _loop(
        self, input: Any, run: SpellRun, on_text: Callable[[str], Awaitable[Any] | Any] | None
    ) -> Result:
        tools = self.resolve_tools(run)
        specs = [ToolSpec(t.name, t.description, t.parameters) for t in tools.values()]
        messages: list[Message] = []
        if self.instructions:
            messages.append(Message("system", self.instructions))
        messages.append(Message("user", input_text(input)))
        usage = Usage()
        calls: list[dict[str, Any]] = []
        for _ in range(self.max_turns):
            request = ChatRequest(
                model=model_chain(self.model)[0],
                messages=list(messages),
                tools=specs,
                output_schema=self.output_schema,
                temperature=self.temperature,
            )
            if on_text is None:
                response = await run.llm_call(self.model, request)
            else:

                async def deliver(chunk: StreamChunk) -> None:
                    if chunk.text:
                        out = on_text(chunk.text)
                        if inspect.isawaitable(out):
                            await out

                response = await run.llm_stream(self.model, request, deliver)
            usage = usage + response.usage
            messages.append(response.message)
            if not response.tool_calls:
                return Result(
                    text=response.text,
                    data=self._structured(response.text),
                    usage=usage,
                    tool_calls=calls,
                    messages=messages,
                    agents=[self.name],
                )
            results = await self._call_tools(run, tools, response.tool_calls)
            for call, content in zip(response.tool_calls, results, strict=True):
                calls.append({**call.to_dict(), "result": content})
                messages.append(
                    Message("tool", json.dumps(content, ensure_ascii=False),
                            tool_call_id=call.id, name=call.name)
                )
        raise LlmspellError(
            "limit",
            f"agent {self.name!r} reached max_turns={self.max_turns} without a final answer",
            {"agent": self.name, "max_turns": self.max_turns},
        )

    async def _call_tools(
        self, run: SpellRun, tools: dict[str, Tool], calls: tuple[ToolCall, ...]
    ) -> list[Any]:
        results: list[Any] = [None] * len(calls)

        async def one(i: int, call: ToolCall) -> None:
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

        async with trio.open_nursery() as nursery:
            for i, call in enumerate(calls):
                nursery.start_soon(one, i, call)
        return results

    def _structured(self, text: str) -> Any:
        if self.output_schema is None:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LlmspellError(
                "invalid_value",
                f"agent {self.name!r}: the model's answer is not JSON ({exc.msg})",
                {"agent": self.name, "text": text[:500]},
            ) from None
        from jsonschema import Draft202012Validator

        error = next(iter(Draft202012Validator(self.output_schema).iter_errors(data)), None)
        if error is not None:
            raise LlmspellError(
                "invalid_value",
                f"agent {self.name!r}: the model's answer does not match the output schema: "
                f"{error.message}",
                {"agent": self.name, "data": data},
            )
        return data


def agent_tool(agent: Agent, *, name: str | None = None, description: str | None = None) -> Tool:
    """``agent`` as a tool taking ``{"input": string}`` and returning the agent's ``data`` when
    it has structured output, else its text."""

    async def run_agent(args: dict[str, Any], ctx: ToolContext) -> Any:
        result = await ctx.run.run_agent(agent, args["input"])
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
