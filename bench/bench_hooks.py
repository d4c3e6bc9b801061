"""Overhead of the default hook set (hooks-logging, hooks-metrics, hooks-cost: those that are
installed and on by default) on a tool call and on an agent turn, against a kernel with every
built-in hook disabled.

The tool call is ``add(2, 3)`` through ``run.call_tool``; the agent turn is an ``LLMAgent`` on
the scripted provider that asks for that tool call, gets the result and answers (as in
bench_agents.py). The machines are shared and noisy, so the two kernels are measured in short
interleaved rounds (ABBA order), each timed in CPU time of this thread (``time.thread_time``:
time spent waiting for a core is not counted); the ratio is the median of the rounds' ratios.
Target: at most 1.10 for an agent turn.

Run: ``uv run --no-sync python bench/bench_hooks.py``.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import sys
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).parent))

from bench_agents import ADD, answer

from llmspell.agents import LLMAgent
from llmspell.config import Config
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.testing import ScriptedProvider

#: every built-in hook (disabled for the baseline)
ALL_HOOKS = ["hooks-logging", "hooks-metrics", "hooks-cost", "hooks-cache", "hooks-ratelimit",
             "hooks-retry", "hooks-circuit", "hooks-trace", "hooks-otel"]
ROUNDS = 100
CALLS = 200
TURNS = 25
#: the clock: CPU time of this thread (wall-clock time counts the other processes too)
clock = time.thread_time

METRICS: dict[str, float] = {}


def kernel(disable: list[str]) -> Kernel:
    k = Kernel.load(env={}, config=Config(), disable=disable)
    k.providers.add("scripted", ScriptedProvider(default=answer), replace=True)
    k.tools.register(ADD, replace=True)
    return k


async def tool_calls(run: SpellRun, n: int) -> float:
    start = clock()
    for _ in range(n):
        await run.call_tool("add", {"a": 2, "b": 3})
    return (clock() - start) / n


async def agent_turns(run: SpellRun, n: int) -> float:
    agent = LLMAgent(name="adder", model="scripted/test", tools=["add"])
    start = clock()
    for _ in range(n):
        result = await run.run_agent(agent, "What is 2 + 3?")
    assert result.text == "The sum is 5.", result.text
    return (clock() - start) / n


async def measure(kernels: dict[str, Kernel]) -> dict[tuple[str, str], list[float]]:
    """Seconds per tool call and per agent turn for each kernel, one sample per round; the
    kernels take turns within a round (ABBA), each on a run of its own."""
    samples: dict[tuple[str, str], list[float]] = {}
    labels = list(kernels)
    async with contextlib.AsyncExitStack() as stack:
        runs = {label: await stack.enter_async_context(SpellRun.open(k))
                for label, k in kernels.items()}
        for run in runs.values():  # warm up
            await tool_calls(run, CALLS)
            await agent_turns(run, TURNS)
        for i in range(ROUNDS):
            gc.collect()
            for what, fn, n in (("tool", tool_calls, CALLS), ("agent", agent_turns, TURNS)):
                for label in labels if i % 2 == 0 else reversed(labels):
                    samples.setdefault((what, label), []).append(await fn(runs[label], n))
    return samples


async def main() -> str:
    kernels = {"none": kernel(ALL_HOOKS), "default": kernel([])}
    loaded = sorted(n for n in kernels["default"].plugins if n.startswith("hooks-"))
    samples = await measure(kernels)
    rows = []
    for what, title in (("tool", "tool call (`add`)"), ("agent", "agent turn (one tool call)")):
        base, hooked = samples[(what, "none")], samples[(what, "default")]
        # each round's pair ran back to back, under the same load: compare within rounds
        ratio = statistics.median(h / b for h, b in zip(hooked, base, strict=True))
        METRICS[f"hooks_{what}_ratio"] = ratio
        METRICS[f"hooks_{what}_us"] = statistics.median(hooked) * 1e6
        target = "≤ 1.10" if what == "agent" else ""
        rows.append(f"| {title} | {statistics.median(base) * 1e6:.1f} | "
                    f"{statistics.median(hooked) * 1e6:.1f} | {ratio:.3f} | {target} |")
    lines = [
        "## Overhead of the default hooks (`bench/bench_hooks.py`)",
        "",
        f"Default set loaded: {', '.join(loaded) or 'none'}. CPU time per operation: medians "
        f"of {ROUNDS} rounds of {CALLS} tool calls and {TURNS} agent turns (scripted provider); "
        "the ratio is the median of the rounds' ratios.",
        "",
        "| operation | µs, no hooks | µs, default hooks | ratio | target |",
        "|---|---|---|---|---|",
        *rows,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(trio.run(main))
