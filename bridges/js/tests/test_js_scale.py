"""Many concurrent script tasks, each waiting on the host."""

from __future__ import annotations

import time

import trio

from llmspell.tools import Tool

TASKS = 1_000


def _nap_tool(calls: list[int]) -> Tool:
    async def run(args, ctx):
        await trio.sleep(0.01)
        calls.append(args["i"])
        return {"i": args["i"], "twice": args["i"] * 2}

    return Tool(
        name="nap",
        description="sleeps 10 ms, then echoes its number",
        run=run,
        parameters={"type": "object", "properties": {"i": {"type": "integer"}},
                    "required": ["i"]},
    )


async def test_a_thousand_spawned_tasks_each_calling_a_tool(js):
    calls: list[int] = []
    js.kernel.tools.register(_nap_tool(calls))
    started = time.perf_counter()
    out = await js(f"""
        const tasks = [];
        for (let i = 0; i < {TASKS}; i++) {{
            tasks.push(Task.spawn(async (n) => {{
                const r = await Tool.call("nap", {{i: n}});
                return r.i === n ? r.twice : -1;
            }}, i));
        }}
        const results = await Promise.all(tasks);
        export default results;
    """)
    elapsed = time.perf_counter() - started
    assert out.result == [2 * i for i in range(TASKS)]
    assert sorted(calls) == list(range(TASKS))  # every call reached the host exactly once
    # the naps overlap: 1,000 x 10 ms one after the other would take 10 s
    assert elapsed < 6, elapsed


async def test_a_thousand_spawned_tasks_each_reading_state(js):
    out = await js(f"""
        for (let i = 0; i < {TASKS}; i++) await State.set(`k${{i}}`, {{n: i}}, "spell");
        const tasks = [];
        for (let i = 0; i < {TASKS}; i++) {{
            tasks.push(Task.spawn(async () => {{
                await Task.sleep(0);
                const v = await State.get(`k${{i}}`, "spell");
                return v.n;
            }}));
        }}
        const viaAll = await Task.all(tasks);
        export default {{viaAll, sum: viaAll.reduce((a, b) => a + b, 0)}};
    """)
    assert out.result["viaAll"] == list(range(TASKS))
    assert out.result["sum"] == TASKS * (TASKS - 1) // 2


async def test_a_thousand_tasks_started_by_task_all_functions(js):
    out = await js(f"""
        const fns = [];
        for (let i = 0; i < {TASKS}; i++) {{
            fns.push(async () => await Tool.call("echo", {{text: String(i)}}));
        }}
        export default await Task.all(fns);
    """)
    assert out.result == [str(i) for i in range(TASKS)]


async def test_host_calls_that_do_not_wait_still_yield_and_stop_when_cancelled(js):
    """A state read does not yield to trio by itself: a task looping on one still lets other
    tasks run, and once cancelled runs none of its code."""
    out = await js("""
        let ticks = 0;
        const spinner = Task.spawn(async () => {
            for (let i = 0; i < 1e6; i++) { await State.get("k", "spell"); ticks++ }
        });
        await Task.sleep(0.05);
        spinner.cancel();
        const at = ticks;
        await Task.sleep(0.05);
        let timedOut;
        try {
            await Task.timeout(0.05, async () => { for (;;) await State.get("k", "spell") });
        } catch (e) { timedOut = e.code }
        export default [at > 0, ticks === at, timedOut];
    """)
    assert out.result == [True, True, "timeout"]
