"""Task semantics of DESIGN.md section 4, promises and the order of microtasks vs host results."""

from __future__ import annotations

import time


async def test_two_host_sleeps_run_concurrently(js):
    started = time.perf_counter()
    out = await js("await Promise.all([Task.sleep(0.2), Task.sleep(0.2)]); export default 1;")
    assert out.result == 1
    assert time.perf_counter() - started < 0.35


async def test_spawn_returns_a_promise_of_the_result(js):
    out = await js("""
        const h = Task.spawn(async (a, b) => { await Task.sleep(0.01); return a + b }, 20, 22);
        const isPromise = h instanceof Promise;
        export default {v: await h, again: await h, isPromise, cancel: typeof h.cancel};
    """)
    assert out.result == {"v": 42, "again": 42, "isPromise": True, "cancel": "function"}


async def test_spawned_tasks_run_concurrently_and_the_spell_waits_for_them(js):
    started = time.perf_counter()
    out = await js("""
        const log = [];
        for (const i of [1, 2, 3]) Task.spawn(async () => { await Task.sleep(0.15); log.push(i) });
        await State.set("log", log, "spell");
    """)
    assert out.result is None
    assert 0.15 <= time.perf_counter() - started < 0.3


async def test_unobserved_failure_of_a_spawned_task_fails_the_spell(js):
    out = await js(
        """
        Task.spawn(async () => { await Task.sleep(0); throw new Error("lost") });
        await Task.sleep(0.01);
    """,
        expect_error=True,
    )
    assert out.error.code == "script_error"
    assert "spell.js:2" in out.error.message and "lost" in out.error.message


async def test_observed_failure_is_raised_where_it_is_awaited(js):
    out = await js("""
        const h = Task.spawn(async () => { await Task.sleep(0); await Tool.call("nope") });
        let code;
        try { await h } catch (e) { code = e.code }
        export default code;
    """)
    assert out.result == "not_found"


async def test_cancel_stops_the_task_and_its_host_calls(js):
    started = time.perf_counter()
    out = await js("""
        const trace = [];
        const h = Task.spawn(async () => {
            trace.push("start");
            try { await Task.sleep(5); trace.push("after sleep") }
            catch (e) { trace.push("catch") }
            finally { trace.push("finally") }
        });
        await Task.sleep(0.02);
        h.cancel();
        let code;
        try { await h } catch (e) { code = e.code }
        await Task.sleep(0.05);
        export default {trace, code};
    """)
    assert out.result == {"trace": ["start"], "code": "cancelled"}
    assert time.perf_counter() - started < 1


async def test_cancel_before_it_starts_runs_nothing(js):
    out = await js("""
        const trace = [];
        const h = Task.spawn(() => { trace.push("ran") });
        Task.cancel(h);
        await Task.sleep(0.02);
        export default trace;
    """)
    assert out.result == []


async def test_cancelled_task_nobody_waits_on_does_not_fail_the_spell(js):
    out = await js("""
        const h = Task.spawn(async () => { await Task.sleep(1); throw new Error("never") });
        await Task.sleep(0);
        h.cancel();
        export default "ok";
    """)
    assert out.result == "ok"


async def test_all_returns_results_in_order(js):
    out = await js("""
        const h = Task.spawn(async () => { await Task.sleep(0.03); return "h" });
        const r = await Task.all([
            async () => { await Task.sleep(0.05); return 1 },
            async () => 2,
            h,
            Task.sleep(0.01).then(() => "promise"),
            "plain",
        ]);
        export default r;
    """)
    assert out.result == [1, 2, "h", "promise", "plain"]


async def test_all_first_failure_cancels_the_others_and_keeps_its_code(js):
    started = time.perf_counter()
    out = await js("""
        const trace = [];
        let err;
        try {
            await Task.all([
                async () => { try { await Task.sleep(2) } finally { trace.push("slow finally") } },
                async () => { await Task.sleep(0.02); await Tool.call("echo", {text: 1}) },
            ]);
        } catch (e) { err = [e.code, e.message.includes("echo")] }
        await Task.sleep(0.05);
        export default {err, trace};
    """)
    assert out.result == {"err": ["invalid_args", True], "trace": []}
    assert time.perf_counter() - started < 1


async def test_race_returns_the_winner_and_cancels_the_rest(js):
    out = await js("""
        const trace = [];
        const r = await Task.race([
            async () => { await Task.sleep(1); trace.push("slow") ; return "slow" },
            async () => { await Task.sleep(0.02); return "fast" },
        ]);
        await Task.sleep(0.05);
        export default {r, trace};
    """)
    assert out.result == {"r": "fast", "trace": []}


async def test_timeout_cancels_an_in_flight_host_sleep(js):
    started = time.perf_counter()
    out = await js("""
        const trace = [];
        let code;
        try {
            await Task.timeout(0.05, async () => {
                try { await Task.sleep(3); trace.push("woke") }
                catch (e) { trace.push("catch") }
                finally { trace.push("finally") }
            });
        } catch (e) { code = e.code }
        const fine = await Task.timeout(1, async () => {
            await Task.sleep(0.01);
            return "in time";
        });
        await Task.sleep(0.05);
        export default {trace, code, fine};
    """)
    assert out.result == {"trace": [], "code": "timeout", "fine": "in time"}
    assert time.perf_counter() - started < 1


async def test_timeout_reraises_the_member_error_unchanged(js):
    out = await js("""
        let e1;
        try { await Task.timeout(1, async () => { await Tool.call("missing") }) }
        catch (e) { e1 = e.code }
        export default e1;
    """)
    assert out.result == "not_found"


async def test_native_promise_combinators_on_host_promises(js):
    out = await js("""
        const all = await Promise.all([Task.sleep(0.01).then(() => 1), State.get("none")]);
        const race = await Promise.race([Task.sleep(0.2).then(() => "slow"),
                                         Task.sleep(0.01).then(() => "fast")]);
        const settled = await Promise.allSettled([Tool.call("nope"),
                                                  Tool.call("echo", {text: "x"})]);
        const any = await Promise.any([Tool.call("nope"), Tool.call("echo", {text: "y"})]);
        const show = (s) => s.status + ":" + (s.value ?? s.reason.code);
        export default {all, race, settled: settled.map(show), any};
    """)
    assert out.result == {
        "all": [1, None],
        "race": "fast",
        "settled": ["rejected:not_found", "fulfilled:x"],
        "any": "y",
    }


async def test_microtasks_run_before_host_completions(js):
    out = await js("""
        const order = [];
        const host = Task.sleep(0).then(() => order.push("host"));
        Promise.resolve().then(() => order.push("micro1")).then(() => order.push("micro2"));
        (async () => { order.push("async body"); await null; order.push("after await null") })();
        order.push("sync");
        await host;
        order.push("end");
        export default order;
    """)
    assert out.result == [
        "async body",
        "sync",
        "micro1",
        "after await null",
        "micro2",
        "host",
        "end",
    ]


async def test_sleep_zero_yields_to_other_tasks(js):
    out = await js("""
        const order = [];
        const worker = async (name) => {
            for (const i of [1, 2, 3]) { order.push(name + i); await Task.sleep(0) }
        };
        const a = Task.spawn(worker, "a");
        const b = Task.spawn(worker, "b");
        await Task.all([a, b]);
        export default order;
    """)
    order = out.result
    assert sorted(order) == ["a1", "a2", "a3", "b1", "b2", "b3"]
    # interleaved: neither task ran to the end before the other started
    assert order.index("b1") < order.index("a3") and order.index("a1") < order.index("b3")


async def test_requests_of_one_task_start_in_order(js):
    out = await js("""
        const seen = [];
        await Event.on("seq.*", (ev) => { seen.push(ev.topic) });
        for (let i = 0; i < 8; i++) Event.emit("seq." + i);
        print("one"); print("two"); print("three");
        await Task.sleep(0.02);
        export default seen;
    """)
    assert out.result == [f"seq.{i}" for i in range(8)]
    assert out.output == ["one", "two", "three"]


async def test_callback_tasks_during_module_wait(js):
    """Event handlers and spawned tasks run while the module awaits a host operation."""
    out = await js("""
        const trace = [];
        await Event.on("tick", async (ev) => {
            trace.push("handler " + ev.data);
            await Task.sleep(0);
        });
        Task.spawn(async () => { await Task.sleep(0.01); await Event.emit("tick", 1) });
        await Event.wait("tick", 1);
        await Task.sleep(0.02);
        export default trace;
    """)
    assert out.result == ["handler 1"]


async def test_a_failed_module_does_not_wait_for_its_unawaited_operations(js):
    started = time.perf_counter()
    out = await js("Task.sleep(5);\nawait Task.sleep(0);\nthrow new Error('stop');",
                   expect_error=True)
    assert out.error.message == "spell.js:3: Error: stop"
    assert time.perf_counter() - started < 1


async def test_the_module_waits_for_its_unawaited_operations(js):
    out = await js("""
        Task.sleep(0.05).then(() => print("late"));
        print("early");
    """)
    assert out.output == ["early", "late"]
