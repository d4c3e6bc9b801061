"""Framework overhead of one agent run, llmspell against pydantic-ai, on the same task: the model
asks for one tool call (``add(2, 3)``), gets the result, then answers. No real model: llmspell
uses its scripted provider, pydantic-ai its ``TestModel`` (which calls every tool once, then
answers). Measured from Python and, for llmspell, from a Lua and a JavaScript spell.

Run: ``uv run --group bench python bench/bench_agents.py`` (pydantic-ai is in the ``bench``
dependency group only); ``bench/report.py`` writes bench/RESULTS.md. Target: llmspell at most a
quarter of pydantic-ai's time per run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import trio

from llmspell.agents import LLMAgent
from llmspell.messages import ToolCall
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool

RUNS = 300
ROUNDS = 7

METRICS: dict[str, float] = {}


def answer(request: ChatRequest) -> Reply:
    """One tool call, then (once the tool's result is in) the answer."""
    if request.messages[-1].role == "tool":
        return Reply(text="The sum is 5.")
    return Reply(tool_calls=[ToolCall("call_1", "add", {"a": 2, "b": 3})])


async def add(args: dict[str, Any], ctx: Any) -> Any:
    return args["a"] + args["b"]


ADD = Tool(
    name="add",
    description="Add two integers.",
    run=add,
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)

SPELLS = {
    "lua": """
local agent = Agent.create{name = "adder", model = "scripted/test", tools = {"add"}}
for i = 1, args.n do agent:run("What is 2 + 3?") end
""",
    "js": """
const agent = await Agent.create({name: "adder", model: "scripted/test", tools: ["add"]});
for (let i = 0; i < args.n; i++) { await agent.run("What is 2 + 3?"); }
""",
}


def kernel() -> Any:
    k = make_kernel(entry_points=True, provider=ScriptedProvider(default=answer))
    k.tools.register(ADD, replace=True)
    return k


async def llmspell_python() -> float:
    """Median seconds per agent run from Python."""
    k = kernel()
    agent = LLMAgent(name="adder", model="scripted/test", tools=["add"])
    samples = []
    async with SpellRun.open(k) as run:
        for _ in range(RUNS // 10):  # warm up
            await run.run_agent(agent, "What is 2 + 3?")
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(RUNS):
                result = await run.run_agent(agent, "What is 2 + 3?")
            samples.append((time.perf_counter() - start) / RUNS)
    assert result.text == "The sum is 5." and result.tool_calls[0]["result"] == 5
    return statistics.median(samples)


async def llmspell_spell(engine_name: str) -> float:
    """Median seconds per agent run from a spell (a loop of ``RUNS`` runs, minus an empty
    spell run)."""
    k = kernel()
    engine = k.engines.get(engine_name)
    samples = []
    for _ in range(ROUNDS):
        async with SpellRun.open(k, name="bench", args={"n": 0}) as run:
            start = time.perf_counter()
            await engine.run(SPELLS[engine_name], f"bench.{engine_name}", run)
            empty = time.perf_counter() - start
        async with SpellRun.open(k, name="bench", args={"n": RUNS}) as run:
            start = time.perf_counter()
            await engine.run(SPELLS[engine_name], f"bench.{engine_name}", run)
            samples.append((time.perf_counter() - start - empty) / RUNS)
    return statistics.median(samples)


def pydantic_ai() -> float | None:
    """Median seconds per pydantic-ai agent run with ``TestModel``; ``None`` when pydantic-ai
    is not installed."""
    try:
        from pydantic_ai import Agent
        from pydantic_ai.models.test import TestModel
    except ImportError:
        return None
    agent = Agent(TestModel(custom_output_text="The sum is 5."))

    @agent.tool_plain
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    async def measure() -> float:
        samples = []
        for _ in range(RUNS // 10):
            await agent.run("What is 2 + 3?")
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(RUNS):
                result = await agent.run("What is 2 + 3?")
            samples.append((time.perf_counter() - start) / RUNS)
        assert result.output == "The sum is 5."
        return statistics.median(samples)

    return asyncio.run(measure())


async def main() -> str:
    rows = {
        "llmspell (Python)": await llmspell_python(),
        "llmspell (Lua spell)": await llmspell_spell("lua"),
        "llmspell (JavaScript spell)": await llmspell_spell("js"),
    }
    baseline = await trio.to_thread.run_sync(pydantic_ai)
    METRICS["agent_run_python_us"] = rows["llmspell (Python)"] * 1e6
    lines = [
        "## Agent run overhead vs pydantic-ai (`bench/bench_agents.py`)",
        "",
        "One run: the model asks for `add(2, 3)`, gets 5, answers. llmspell on its scripted "
        "provider, pydantic-ai on `TestModel`; median of "
        f"{ROUNDS} rounds of {RUNS} runs.",
        "",
        "| runner | µs per run | ratio to pydantic-ai | target |",
        "|---|---|---|---|",
    ]
    if baseline is not None:
        METRICS["pydantic_ai_run_us"] = baseline * 1e6
        lines.append(f"| pydantic-ai (TestModel) | {baseline * 1e6:.0f} | 1.00 | |")
    for name, seconds in rows.items():
        ratio = f"{seconds / baseline:.2f}" if baseline else "n/a"
        if baseline:
            key = name.split("(")[1].rstrip(")").split()[0].lower()
            METRICS[f"agent_run_ratio_{key}"] = seconds / baseline
        lines.append(f"| {name} | {seconds * 1e6:.0f} | {ratio} | ≤ 0.25 |")
    if baseline is None:
        lines += ["", "pydantic-ai is not installed: run with `uv run --group bench`."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(trio.run(main))
