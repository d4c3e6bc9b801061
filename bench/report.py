"""Run every benchmark and write bench/RESULTS.md:
``uv run --group bench python bench/report.py`` (the group adds the comparison baselines)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).parent))

import bench_agents
import bench_bridges
import bench_hooks
import bench_kernel
import bench_local
import bench_providers

#: (metric, comparison, target, what it means) — the targets of the issues
TARGETS = [
    ("tool_call_5_hooks_us", "<", 20.0, "no-op tool call with 5 no-op hook plugins (µs)"),
    ("bus_1_subscribers_eps", ">=", 150_000.0, "events/s delivered to one subscriber"),
    ("lua_host_call_us", "<", 25.0, "awaited host call from Lua (µs, State.get)"),
    ("js_host_call_us", "<", 25.0, "awaited host call from JavaScript (µs, State.get)"),
    ("lua_spell_run_ms", "<", 1.0, "start (and finish) a minimal Lua spell run (ms)"),
    ("js_spell_run_ms", "<", 1.0, "start (and finish) a minimal JavaScript spell run (ms)"),
    ("cli_run_one.lua_s", "<", 0.3, "`llmspell run` of a one-line Lua spell (s, wall)"),
    ("cli_run_one.js_s", "<", 0.3, "`llmspell run` of a one-line JavaScript spell (s, wall)"),
    # issue 3's absolute figures, scaled to its machine (the bare imports in 0.2 s; see
    # bench_bridges): the shared machines run everything up to 2x slower at times
    ("lua_host_call_scaled_us", "<", 25.0,
     "awaited host call from Lua (µs), scaled to the issue's machine"),
    ("js_host_call_scaled_us", "<", 25.0,
     "awaited host call from JavaScript (µs), scaled to the issue's machine"),
    ("lua_spell_run_scaled_ms", "<", 1.0,
     "minimal Lua spell run (ms), scaled to the issue's machine"),
    ("js_spell_run_scaled_ms", "<", 1.0,
     "minimal JavaScript spell run (ms), scaled to the issue's machine"),
    ("cli_run_one.lua_scaled_s", "<", 0.3,
     "`llmspell run` of a one-line Lua spell (s), scaled to the issue's machine"),
    ("cli_run_one.js_scaled_s", "<", 0.3,
     "`llmspell run` of a one-line JavaScript spell (s), scaled to the issue's machine"),
    # the 0.3 s above assumed the 0.2 s for the bare imports: the time llmspell adds
    ("cli_overhead_one.lua_s", "<", 0.1,
     "`llmspell run` of a one-line Lua spell, seconds over the bare imports"),
    ("cli_overhead_one.js_s", "<", 0.1,
     "`llmspell run` of a one-line JavaScript spell, seconds over the bare imports"),
    ("local_llmspell_ratio", ">=", 0.9,
     "embedded model tokens/s through llmspell, ratio to raw llama-cpp-python"),
    ("agent_run_ratio_python", "<", 0.25,
     "agent run (one tool call) from Python, ratio to pydantic-ai's TestModel"),
    ("agent_run_ratio_lua", "<", 0.25,
     "agent run (one tool call) from a Lua spell, ratio to pydantic-ai's TestModel"),
    ("agent_run_ratio_javascript", "<", 0.25,
     "agent run (one tool call) from a JavaScript spell, ratio to pydantic-ai's TestModel"),
    ("agents_100_concurrent_s", "<", 0.5,
     "100 concurrent agent calls, loopback server answering after 100 ms (s, wall)"),
    ("hooks_agent_ratio", "<=", 1.10,
     "agent turn with the default hooks (logging, metrics, cost), ratio to no hooks"),
]


def targets() -> str:
    metrics = {**bench_kernel.METRICS, **bench_bridges.METRICS, **bench_providers.METRICS,
               **bench_local.METRICS, **bench_agents.METRICS, **bench_hooks.METRICS}
    lines = [
        "## Targets",
        "",
        "Absolute times depend on the speed of the shared machine at the moment, which swings",
        "by up to 2x. Issue 3 set its absolute targets on a machine where the bare imports",
        "every run needs took about 0.2 s; the rows *scaled to the issue's machine* are the",
        "same figures measured here times 0.2 s / the bare imports timed around them (see",
        "\"Script bridges\").",
        "",
        "| figure | target | measured | met |",
        "|---|---|---|---|",
    ]
    for key, op, goal, what in TARGETS:
        if key not in metrics:
            continue
        value = metrics[key]
        met = {"<": value < goal, "<=": value <= goal, ">=": value >= goal}[op]
        lines.append(f"| {what} | {op} {goal:g} | {value:,.2f} | {'yes' if met else 'NO'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    header = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, trio {trio.__version__}, 2 shared cores. Medians of "
        "several rounds; the machines are shared and noisy, so read ratios before absolutes.",
        "",
    ]
    benches = (bench_kernel, bench_bridges, bench_agents, bench_hooks, bench_providers, bench_local)
    body = "\n".join(trio.run(bench.main) for bench in benches)
    report = "\n".join(header) + "\n" + targets() + "\n" + body
    Path(__file__).with_name("RESULTS.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
