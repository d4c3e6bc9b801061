"""What the tests of the operation hooks (logging, metrics, trace) share: every built-in hook's
name, a scripted model that asks for one tool call and then answers, and two tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmspell.agents import LLMAgent
from llmspell.messages import ToolCall, Usage
from llmspell.providers import ChatRequest
from llmspell.testing import Reply
from llmspell.tools import Tool

#: every built-in hook plugin (to disable all but the one under test)
HOOKS = ["hooks-logging", "hooks-metrics", "hooks-cost", "hooks-cache", "hooks-ratelimit",
         "hooks-retry", "hooks-circuit", "hooks-trace", "hooks-otel"]


def answerer(call_usage: Usage | None = None,
             answer_usage: Usage | None = None) -> Callable[[ChatRequest], Reply]:
    """A scripted model: asks for the tool named in the prompt (``use <tool>``, else ``add``)
    with ``{a: 2, b: 3}``, then answers ``done: <tool result>``; each reply with its usage."""

    def answer(request: ChatRequest) -> Reply:
        last = request.messages[-1]
        if last.role == "tool":
            return Reply(text=f"done: {last.content}", usage=answer_usage)
        tool = last.content.split("use ", 1)[1].split()[0] if "use " in last.content else "add"
        return Reply(tool_calls=[ToolCall("call_1", tool, {"a": 2, "b": 3})], usage=call_usage)

    return answer


async def add(args: dict[str, Any], ctx: Any) -> Any:
    return args["a"] + args["b"]


async def boom(args: dict[str, Any], ctx: Any) -> Any:
    raise RuntimeError("kaput")


ADD = Tool(name="add", description="Add two integers.", run=add, parameters={
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"]})
BOOM = Tool(name="boom", description="Always fails.", run=boom)
AGENT = LLMAgent(name="adder", model="scripted/test", tools=["add", "boom"])
