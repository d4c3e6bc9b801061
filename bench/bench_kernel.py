"""Kernel overheads: hook dispatch on a no-op tool call, and event bus throughput.

Run: ``uv run python bench/bench_kernel.py``; ``bench/report.py`` writes bench/RESULTS.md.
Each figure is the median of several rounds; ratios compare against the no-hook call.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import trio

from llmspell.lifecycle import HookContext, hookimpl
from llmspell.runtime import SpellRun
from llmspell.testing import make_kernel
from llmspell.tools import Tool, ToolRegistry

ROUNDS = 7
CALLS = 5_000
EVENTS = 100_000


async def noop(args: dict[str, Any], ctx: Any) -> Any:
    return None


class NoopTool:
    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        registry.register(Tool(name="noop", description="does nothing", run=noop))


def hook_plugin() -> object:
    class Hooks:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            return None

        @hookimpl
        def llmspell_after_tool_call(self, ctx: HookContext) -> None:
            return None

    return Hooks()


async def tool_call_cost(hooks: int) -> float:
    """Median seconds per ``run.call_tool("noop", {})`` with ``hooks`` plugins, each hooking
    before and after the tool call."""
    plugins = [("noop", NoopTool())] + [(f"h{i}", hook_plugin()) for i in range(hooks)]
    kernel = make_kernel(plugins=plugins)
    samples = []
    async with SpellRun.open(kernel) as run:
        for _ in range(CALLS):  # warm up caches
            await run.call_tool("noop", {})
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(CALLS):
                await run.call_tool("noop", {})
            samples.append((time.perf_counter() - start) / CALLS)
    return statistics.median(samples)


async def bus_throughput(subscribers: int) -> float:
    """Median events per second published and drained by every one of ``subscribers``."""
    from llmspell.events import EventBus

    samples = []
    for _ in range(ROUNDS):
        bus = EventBus()
        subs = [bus.subscribe("bench.**", buffer=EVENTS) for _ in range(subscribers)]

        async def drain(sub: Any) -> None:
            n = 0
            async for _ in sub:
                n += 1
                if n == EVENTS:
                    return

        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for sub in subs:
                nursery.start_soon(drain, sub)
            for i in range(EVENTS):
                await bus.publish("bench.tick", i)
        samples.append(EVENTS / (time.perf_counter() - start))
    return statistics.median(samples)


#: figures compared with targets by bench/report.py
METRICS: dict[str, float] = {}


async def main() -> str:
    lines = [
        "## Hook dispatch on a no-op tool call (`bench/bench_kernel.py`)",
        "",
        "Each hook plugin implements `before_tool_call` and `after_tool_call` (no-op).",
        "The call includes schema validation, policy checks and the `tool.started`/",
        "`tool.finished` events.",
        "",
        "| hook plugins | µs per call | ratio to 0 hooks | target |",
        "|---|---|---|---|",
    ]
    base = None
    await tool_call_cost(0)  # a first round warms the interpreter up; it is not reported
    for hooks in (0, 1, 5):
        cost = await tool_call_cost(hooks)
        METRICS[f"tool_call_{hooks}_hooks_us"] = cost * 1e6
        base = base or cost
        target = "< 20 µs" if hooks == 5 else ""
        lines.append(f"| {hooks} | {cost * 1e6:.1f} | {cost / base:.2f} | {target} |")
    lines += [
        "",
        "## Event bus throughput",
        "",
        f"{EVENTS:,} events published with `await bus.publish`, drained by each subscriber",
        "with `async for`.",
        "",
        "| subscribers | events/s (published) | deliveries/s | target |",
        "|---|---|---|---|",
    ]
    for subs in (1, 10):
        rate = await bus_throughput(subs)
        METRICS[f"bus_{subs}_subscribers_eps"] = rate
        target = "≥ 150,000 events/s" if subs == 1 else ""
        lines.append(f"| {subs} | {rate:,.0f} | {rate * subs:,.0f} | {target} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(trio.run(main))
