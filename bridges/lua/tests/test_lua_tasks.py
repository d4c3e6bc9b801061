"""Task semantics of DESIGN.md §4 from Lua, and spell-created coroutines reaching the host."""

from __future__ import annotations

import time

import pytest

from llmspell.errors import LlmspellError


async def test_all_runs_host_waits_concurrently(spell):
    started = time.monotonic()
    result = await spell.run(
        """
        return Task.all{
          function() Task.sleep(0.2) return "a" end,
          function() Task.sleep(0.2) return "b" end,
        }
        """
    )
    elapsed = time.monotonic() - started
    assert result == ["a", "b"]
    assert elapsed < 0.35


async def test_spawn_with_arguments_and_wait(spell):
    result = await spell.run(
        """
        local h = Task.spawn(function(a, b) Task.sleep(0.01) return a + b end, 2, 3)
        local other = Task.spawn(function() return "x" end)
        return {h:wait(), Task.wait(other), h.kind}
        """
    )
    assert result == [5, "x", "task"]


async def test_all_accepts_handles_and_keeps_list_order(spell):
    result = await spell.run(
        """
        local slow = Task.spawn(function() Task.sleep(0.05) return 1 end)
        return Task.all{slow, function() return 2 end, Task.spawn(function() return 3 end)}
        """
    )
    assert result == [1, 2, 3]


async def test_all_first_failure_cancels_the_rest_and_keeps_its_code(spell):
    result = await spell.run(
        """
        local ok, err = pcall(Task.all, {
          function() Task.sleep(0.01) Tool.call("fail", {}) end,
          function() Task.sleep(0.5) Tool.call("record", {value = "must not run"}) end,
        })
        Task.sleep(0.6)
        return {ok = ok, code = err.code}
        """
    )
    assert result == {"ok": False, "code": "tool_error"}
    assert spell.recorder.calls == []


async def test_race_returns_the_winner_and_cancels_the_rest(spell):
    started = time.monotonic()
    result = await spell.run(
        """
        local v = Task.race{
          function() Task.sleep(1) Tool.call("record", {value = "loser ran"}) return "slow" end,
          function() Task.sleep(0.02) return "fast" end,
        }
        return v
        """
    )
    assert result == "fast"
    assert spell.recorder.calls == []
    assert time.monotonic() - started < 0.8


async def test_timeout_cancels_an_in_flight_host_operation(spell):
    started = time.monotonic()
    result = await spell.run(
        """
        local ok, err = pcall(Task.timeout, 0.05, function()
          local inner_ok = pcall(Tool.call, "slow", {seconds = 2})
          Tool.call("record", {value = "after cancellation"})   -- must never run
        end)
        Task.sleep(0.1)
        return {ok = ok, code = err.code, message = err.message}
        """
    )
    assert result["ok"] is False and result["code"] == "timeout"
    assert time.monotonic() - started < 1.0
    assert spell.recorder.calls == []  # the slow tool was cancelled, no script code ran after


async def test_timeout_returns_the_value_when_in_time(spell):
    assert await spell.run("return Task.timeout(1, function() Task.sleep(0.01) return 7 end)") == 7


async def test_cancelled_task_runs_no_more_script_code(spell):
    result = await spell.run(
        """
        local h = Task.spawn(function()
          local ok = pcall(Task.sleep, 1)
          Tool.call("record", {value = "pcall handler ran"})
        end)
        Task.sleep(0.02)
        h:cancel()
        local ok, err = pcall(h.wait, h)
        Task.sleep(0.05)
        return {ok = ok, code = err.code}
        """
    )
    assert result == {"ok": False, "code": "cancelled"}
    assert spell.recorder.calls == []


async def test_cancel_with_task_cancel_does_not_fail_the_spell(spell):
    result = await spell.run(
        """
        local h = Task.spawn(function() Task.sleep(5) end)
        Task.cancel(h)
        return "done"
        """
    )
    assert result == "done"


async def test_cancelled_busy_task_is_not_resumed_after_a_non_waiting_op(spell):
    # the task never waits: each print completes at once; cancellation still stops it
    result = await spell.run(
        """
        local n = 0
        local h = Task.spawn(function()
          while true do n = n + 1; print("tick") end
        end)
        Task.sleep(0)
        h:cancel()
        local at_cancel = n
        Task.sleep(0.01)
        return n == at_cancel
        """
    )
    assert result is True


async def test_unhandled_failure_of_a_spawned_task_fails_the_spell(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run(
            'Task.spawn(function()\n  Task.sleep(0)\n  error("task broke")\nend)\nreturn 1\n'
        )
    assert info.value.code == "script_error"
    assert info.value.message == "spell.lua:3: task broke"


async def test_wait_reraises_a_task_error_with_its_code(spell):
    result = await spell.run(
        """
        local h = Task.spawn(function() Tool.call("nope") end)
        local ok, err = pcall(h.wait, h)
        return {ok, err.code}
        """
    )
    assert result == [False, "not_found"]


async def test_sleep_zero_yields_to_other_tasks(spell):
    result = await spell.run(
        """
        local order = {}
        local a = Task.spawn(function()
          for i = 1, 3 do order[#order + 1] = "a" .. i; Task.sleep(0) end
        end)
        local b = Task.spawn(function()
          for i = 1, 3 do order[#order + 1] = "b" .. i; Task.sleep(0) end
        end)
        Task.all{a, b}
        return order
        """
    )
    assert sorted(result) == ["a1", "a2", "a3", "b1", "b2", "b3"]
    assert result[:2] in (["a1", "b1"], ["b1", "a1"])  # interleaved, not a1 a2 a3


async def test_spell_waits_for_spawned_tasks(spell):
    await spell.run(
        'Task.spawn(function() Task.sleep(0.05) Tool.call("record", {value = "late"}) end)'
    )
    assert spell.recorder.calls == ["late"]


async def test_bad_task_arguments(spell):
    result = await spell.run(
        """
        local ok1, e1 = pcall(Task.spawn, 42)
        local ok2, e2 = pcall(Task.sleep, -1)
        local ok3, e3 = pcall(Task.race, {})
        return {e1.code, e2.code, e3.code}
        """
    )
    assert result == ["invalid_args", "invalid_args", "invalid_args"]


# --- spell-created coroutines ------------------------------------------------------------------


async def test_coroutine_wrap_generator_can_call_the_host(spell):
    result = await spell.run(
        """
        local gen = coroutine.wrap(function()
          for i = 1, 3 do
            local v = Tool.call("add", {a = i, b = 100})
            Task.sleep(0)
            coroutine.yield(v)
          end
          return "end"
        end)
        return {gen(), gen(), gen(), gen()}
        """
    )
    assert result == [101, 102, 103, "end"]


async def test_nested_coroutines_forward_host_requests(spell):
    started = time.monotonic()
    result = await spell.run(
        """
        local outer = coroutine.create(function(x)
          local inner = coroutine.create(function(y)
            Task.sleep(0.1)
            local got = coroutine.yield(y * 2)
            return State.get("missing") == nil and got + 1
          end)
          local _, first = coroutine.resume(inner, x)
          local _, second = coroutine.resume(inner, first + 10)
          coroutine.yield(second)
          return "outer done"
        end)
        local ok1, a = coroutine.resume(outer, 5)
        local ok2, b = coroutine.resume(outer)
        local ok3, c = coroutine.resume(outer)
        return {ok1, a, ok2, b, ok3, c, coroutine.status(outer)}
        """
    )
    assert result == [True, 21, True, "outer done", False, "cannot resume dead coroutine", "dead"]
    assert time.monotonic() - started < 0.5


async def test_two_spell_coroutines_in_tasks_wait_concurrently(spell):
    started = time.monotonic()
    result = await spell.run(
        """
        local function worker(n)
          local co = coroutine.wrap(function() Task.sleep(0.2) return n end)
          return co()
        end
        return Task.all{function() return worker(1) end, function() return worker(2) end}
        """
    )
    assert result == [1, 2]
    assert time.monotonic() - started < 0.35


async def test_errors_inside_spell_coroutines_stay_with_resume(spell):
    result = await spell.run(
        """
        local co = coroutine.create(function() Tool.call("nope") end)
        local ok, err = coroutine.resume(co)
        return {ok, err.code}
        """
    )
    assert result == [False, "not_found"]


async def test_bare_yield_in_the_main_chunk_is_an_error(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run("coroutine.yield(1)")
    assert info.value.code == "script_error"
    assert "coroutine.yield" in info.value.message


async def test_a_thousand_spawned_tasks_each_calling_the_host(spell):
    # every task waits on a tool that sleeps, then reads and writes state: all 1000 finish,
    # concurrently, and each result reaches its own handle
    started = time.perf_counter()
    result = await spell.run(
        """
        State.set("base", 1000, "spell")
        local handles = {}
        for i = 1, 1000 do
          handles[i] = Task.spawn(function(n)
            local slept = Tool.call("slow", {seconds = 0.05})
            local base = State.get("base", "spell")
            State.set("k" .. n, n, "spell")
            return {n = n, value = base + n, slept = slept}
          end, i)
        end
        local bad, sum = {}, 0
        for i, h in ipairs(handles) do
          local r = h:wait()
          if r.n ~= i or r.value ~= 1000 + i or r.slept ~= 0.05 then bad[#bad + 1] = i end
          sum = sum + r.value
        end
        local stored = 0
        for i = 1, 1000 do stored = stored + State.get("k" .. i, "spell") end
        return {bad = JSON.array(bad), sum = sum, stored = stored, keys = #State.keys("spell")}
        """
    )
    elapsed = time.perf_counter() - started
    assert result == {"bad": [], "sum": 1000 * 1000 + 500500, "stored": 500500, "keys": 1001}
    assert spell.recorder.calls.count(("slow-done", 0.05)) == 1000
    # sequentially this would take 50 s; concurrently the sleeps overlap
    assert elapsed < 15


async def test_a_thousand_functions_in_task_all(spell):
    result = await spell.run(
        """
        local fns = {}
        for i = 1, 1000 do
          fns[i] = function()
            return Tool.call("add", {a = i, b = Tool.call("slow", {seconds = 0.01})})
          end
        end
        local out = Task.all(fns)
        local ok = #out == 1000
        for i = 1, 1000 do ok = ok and out[i] == i + 0.01 end
        return ok
        """
    )
    assert result is True


async def test_a_spell_making_only_non_waiting_calls_lets_other_tasks_run(spell):
    # JSON.parse never waits; the driver still yields to trio every CHECKPOINT_EVERY requests
    from llmspell_lua.bridge import CHECKPOINT_EVERY

    result = await spell.run(
        """
        local done = false
        Task.spawn(function() done = true end)
        local n = 0
        while not done and n < 100000 do JSON.parse("1") n = n + 1 end
        return {done, n}
        """
    )
    assert result[0] is True
    # (the spawned task may need a few scheduling rounds to start)
    assert result[1] <= 4 * CHECKPOINT_EVERY


async def test_cancellation_reaches_a_task_making_non_waiting_calls(spell):
    result = await spell.run(
        """
        local n = 0
        local h = Task.spawn(function() while true do JSON.stringify(n) n = n + 1 end end)
        Task.sleep(0.05)
        h:cancel()
        local after = n
        Task.sleep(0.05)
        return {after > 0, n == after}
        """
    )
    assert result == [True, True]
