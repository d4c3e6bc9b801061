"""Limits of run.policy.limits: memory, CPU time and call depth end the spell with `limit`,
pcall cannot swallow them, and the host keeps working afterwards."""

from __future__ import annotations

import time

import pytest
from lua_spell_testing import policy

from llmspell.errors import LlmspellError

MEMORY = 16 * 1024 * 1024


async def expect_limit(spell, source, name, **limits):
    started = time.monotonic()
    with pytest.raises(LlmspellError) as info:
        await spell.run(source, policy=policy(**limits))
    err = info.value
    assert err.code == "limit", err
    assert err.details["limit"] == name
    assert name in err.message and "spell.lua" in err.message
    return err, time.monotonic() - started


@pytest.mark.parametrize(
    "source",
    [
        'local s = string.rep("x", 64 * 1024 * 1024)',
        "local t = {} for i = 1, 1e9 do t[i] = {i} end",
        'local s = "x" while true do s = s .. s end',
        # pcall does not swallow it
        'local ok = pcall(string.rep, "x", 64 * 1024 * 1024) return "swallowed"',
        "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end",
    ],
)
async def test_memory_bombs_end_the_spell(spell, source):
    err, elapsed = await expect_limit(spell, source, "memory_bytes", memory_bytes=MEMORY)
    assert "memory" in err.message
    assert elapsed < 5
    # the host keeps working: the next spell on the same kernel runs normally
    assert await spell.run("return Tool.call('add', {a = 1, b = 1})") == 2


@pytest.mark.parametrize(
    "source",
    [
        "while true do end",
        "local n = 0 while true do n = n + 1 end",
        "while true do pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function(e) return e end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
        "local ok, e = coroutine.resume(coroutine.create(function() while true do end end))",
        "Task.spawn(function() while true do end end) Task.sleep(5)",
        'Tool.define{name = "spin", description = "s", run = function() while true do end end}\n'
        'local ok = pcall(Tool.call, "spin", {})',
    ],
)
async def test_cpu_limit_ends_the_spell(spell, source):
    err, elapsed = await expect_limit(spell, source, "cpu_seconds", cpu_seconds=0.3)
    assert "CPU" in err.message
    assert elapsed < 3
    assert await spell.run("return 1") == 1


async def test_cpu_limit_counts_only_engine_time(spell):
    # waiting on the host is not CPU time of the script
    result = await spell.run("Task.sleep(0.3) return 'ok'", policy=policy(cpu_seconds=0.2))
    assert result == "ok"


async def test_pcall_handlers_do_not_run_after_a_limit(spell):
    with pytest.raises(LlmspellError):
        await spell.run(
            """
            local ok = pcall(function() while true do end end)
            Tool.call("record", {value = "after the limit"})
            """,
            policy=policy(cpu_seconds=0.2),
        )
    assert spell.recorder.calls == []


@pytest.mark.parametrize(
    "source",
    [
        "local function f(n) return f(n + 1) + 1 end f(1)",
        "local function f(n) return 1 + f(n + 1) end local ok = pcall(f, 1)",
        "local function f() local ok, e = pcall(f) error(e, 0) end f()",
        "local function f() return coroutine.wrap(f)() end f()",
    ],
)
async def test_call_depth_limit(spell, source):
    err, _ = await expect_limit(spell, source, "max_depth", max_depth=100)
    assert "depth" in err.message


async def test_recursion_within_the_depth_limit_works(spell):
    result = await spell.run(
        "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(50)",
        policy=policy(max_depth=100),
    )
    assert result == 50


async def test_limit_in_a_spawned_task_cancels_the_spell(spell):
    started = time.monotonic()
    with pytest.raises(LlmspellError) as info:
        await spell.run(
            """
            Task.spawn(function() while true do end end)
            Tool.call("slow", {seconds = 5})
            """,
            policy=policy(cpu_seconds=0.2),
        )
    assert info.value.code == "limit"
    assert time.monotonic() - started < 3


async def test_unlimited_policy_runs(spell):
    result = await spell.run(
        "local s = 0 for i = 1, 1e5 do s = s + i end return s",
        policy=policy(cpu_seconds=None, memory_bytes=None, max_depth=None),
    )
    assert result == 5000050000


async def test_script_tools_recursing_through_the_host_hit_the_depth_limit(spell):
    source = """
    Tool.define{name = "rec", description = "r", run = function() return Tool.call("rec", {}) end}
    local ok = pcall(Tool.call, "rec", {})
    """
    err, _ = await expect_limit(spell, source, "max_depth")
    assert "depth" in err.message


async def test_long_chains_of_spawned_tasks_are_not_nesting(spell):
    result = await spell.run(
        """
        local count = 0
        local function chain(n)
          count = count + 1
          if n > 0 then return Task.spawn(chain, n - 1):wait() end
        end
        chain(120)
        return count
        """
    )
    assert result == 121


async def test_wall_time_limit_stops_a_busy_loop_without_a_cpu_limit(spell):
    err, elapsed = await expect_limit(
        spell, "while true do end", "wall_seconds", wall_seconds=1, cpu_seconds=None
    )
    assert "wall-time" in err.message
    assert elapsed < 4
