"""Script bridge costs: a host operation round trip and a whole minimal spell, per engine.

Run: ``uv run python bench/bench_bridges.py`` (prints a Markdown table); ``bench/report.py``
writes every benchmark into bench/RESULTS.md. Medians of several rounds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun

ROUNDS = 5
CALLS = 2_000
SPELLS = 200
#: the concurrency run: this many spells at once, each making CONCURRENT_CALLS host calls
CONCURRENT_SPELLS = 50
CONCURRENT_CALLS = 100
CLI_RUNS = 11

# the same work in each language: CALLS state reads (no wait) and CALLS Task.sleep(0) (a yield)
SOURCES = {
    "lua": {
        "read": f"for i = 1, {CALLS} do State.get('k', 'spell') end",
        "yield": f"for i = 1, {CALLS} do Task.sleep(0) end",
        "empty": "return 1",
        "mixed": f"for i = 1, {CONCURRENT_CALLS} do State.set('n', i, 'spell') Task.sleep(0) end",
    },
    "js": {
        "read": f"for (let i = 0; i < {CALLS}; i++) {{ await State.get('k', 'spell') }}",
        "yield": f"for (let i = 0; i < {CALLS}; i++) {{ await Task.sleep(0) }}",
        "empty": "export default 1",
        "mixed": f"for (let i = 0; i < {CONCURRENT_CALLS}; i++) "
        "{ await State.set('n', i, 'spell'); await Task.sleep(0) }",
    },
}


async def timed(kernel: Kernel, engine: Any, source: str, filename: str) -> float:
    start = time.perf_counter()
    async with SpellRun.open(kernel, name=filename) as run:
        await engine.run(source, filename, run)
    return time.perf_counter() - start


async def measure(kernel: Kernel, name: str) -> dict[str, float]:
    engine = kernel.engines.get(name)
    src = SOURCES[name]
    filename = f"bench.{name}"
    out = {}
    for key in ("read", "yield"):
        samples = [await timed(kernel, engine, src[key], filename) / CALLS for _ in range(ROUNDS)]
        out[key] = statistics.median(samples)
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(SPELLS):
            await timed(kernel, engine, src["empty"], filename)
        samples.append((time.perf_counter() - start) / SPELLS)
    out["spell"] = statistics.median(samples)
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for i in range(CONCURRENT_SPELLS):
                nursery.start_soon(timed, kernel, engine, src["mixed"], f"c{i}.{name}")
        samples.append(time.perf_counter() - start)
    out["concurrent"] = statistics.median(samples)
    return out


#: separate processes each engine is measured in (see :func:`measure_in_processes`)
PROCESSES = 3


def measure_in_processes(name: str) -> dict[str, float]:
    """:func:`measure` run in PROCESSES fresh processes one after another; per figure, the
    median of their medians (a process can settle in a slow mode for its whole life on a shared
    machine: one process's figures say little)."""
    runs = []
    for _ in range(PROCESSES):
        out = subprocess.run([sys.executable, __file__, "--measure", name], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


async def _measure_main(name: str) -> None:
    print(json.dumps(await measure(Kernel.load(), name)))


def walls(commands: dict[str, list[str]]) -> dict[str, float]:
    """Median wall seconds of running each command CLI_RUNS times, the commands taking turns
    within each round (so a burst of load elsewhere hits all of them alike)."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(CLI_RUNS):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


#: figures compared with targets by bench/report.py
METRICS: dict[str, float] = {}


def cli_lines() -> list[str]:
    llmspell = str(Path(sys.executable).with_name("llmspell"))
    imports = "import trio, lupa.lua54, quickjs, pluggy, attrs, click"
    with tempfile.TemporaryDirectory() as tmp:
        commands = {"imports": [sys.executable, "-c", imports]}
        for name, text in (("one.lua", "return 1"), ("one.js", "export default 1")):
            path = Path(tmp) / name
            path.write_text(text)
            commands[name] = [llmspell, "run", "--project", tmp, str(path)]
        # compiled bytecode, as on an installed system (a stale .pyc is recompiled every time)
        repo = Path(__file__).resolve().parent.parent
        sources = [repo / "core/src", *repo.glob("plugins/*/src"), *repo.glob("bridges/*/src")]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, sources)],
                       check=False, capture_output=True)
        for argv in commands.values():  # warm the disk cache
            subprocess.run(argv, check=True, capture_output=True)
        seconds = walls(commands)
    baseline = seconds.pop("imports")
    lines = [
        "",
        "`llmspell run` of a one-line spell, as a new process each time (median of "
        f"{CLI_RUNS}, taking turns with the bare imports), against the bare import of the "
        "libraries every run needs:",
        "",
        "| command | wall seconds | ratio to the bare imports |",
        "|---|---|---|",
        f"| `python -c 'import trio, lupa.lua54, quickjs, pluggy, attrs, click'` | "
        f"{baseline:.3f} | 1.00 |",
    ]
    for name, wall_s in seconds.items():
        METRICS[f"cli_run_{name}_s"] = wall_s
        METRICS[f"cli_overhead_{name}_s"] = wall_s - baseline
        lines.append(f"| `llmspell run {name}` | {wall_s:.3f} | {wall_s / baseline:.2f} |")
    added = max(METRICS["cli_overhead_one.lua_s"], METRICS["cli_overhead_one.js_s"])
    lines += [
        "",
        "Issue 3's 0.3 s target was set when these imports took about 0.2 s; here they take "
        f"{baseline:.2f} s, so the figure llmspell controls is the time it adds on top: "
        f"at most {added * 1e3:.0f} ms (target < 100 ms).",
    ]
    return lines


async def main() -> str:
    kernel = Kernel.load()
    lines = [
        "## Script bridges (`bench/bench_bridges.py`)",
        "",
        "Per host operation from a spell: `State.get` on the run's in-memory `spell` scope (the",
        "host answers without waiting) and `Task.sleep(0)` (a real yield to trio); and a whole",
        "spell run (`SpellRun.open` + a fresh sandboxed runtime + `return 1`).",
        "",
        f"The concurrency run starts {CONCURRENT_SPELLS} spells at once, each making "
        f"{CONCURRENT_CALLS} `State.set` + `Task.sleep(0)` pairs.",
        "",
        "On the shared machines these figures are bimodal per process: the same code, measured",
        "in one process after another, settles either near 18 µs per JavaScript `State.get` or",
        "near 33 µs (CPU time equal to wall time, with or without address randomisation, on",
        f"either core). So each engine is measured in {PROCESSES} fresh processes, and each",
        "figure is the median of the processes' medians.",
        "",
        "| engine | µs per State.get | µs per Task.sleep(0) | ms per minimal spell run "
        f"| {CONCURRENT_SPELLS} spells x {CONCURRENT_CALLS} calls: s (calls/s) |",
        "|---|---|---|---|---|",
    ]
    for name in ("lua", "js"):
        if name not in kernel.engines:
            lines.append(f"| {name} | (engine not installed) | | | |")
            continue
        m = measure_in_processes(name)
        METRICS[f"{name}_host_call_us"] = m["read"] * 1e6
        METRICS[f"{name}_spell_run_ms"] = m["spell"] * 1e3
        calls = CONCURRENT_SPELLS * CONCURRENT_CALLS * 2
        lines.append(
            f"| {name} | {m['read'] * 1e6:.1f} | {m['yield'] * 1e6:.1f} | {m['spell'] * 1e3:.2f} "
            f"| {m['concurrent']:.2f} ({calls / m['concurrent']:,.0f}) |"
        )
    lines += cli_lines()
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        trio.run(_measure_main, sys.argv[2])
    else:
        print(trio.run(main))
