"""Limits of run.policy.limits: memory, CPU time and call depth end the spell with `limit`,
pcall cannot swallow them, and the host keeps working afterwards."""

from __future__ import annotations

import time

import lupa.lua54 as lupa
import pytest
import trio
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


# --- each limit ends the spell with code `limit` within 2x its budget -------------------------

CPU_BUDGET = 0.5


async def expect_limit_within(spell, source, name, budget, **limits):
    """The spell ends with code ``limit`` naming ``name`` before ``2 * budget`` seconds
    (``time.perf_counter``). ``cpu_seconds`` is CPU time: when this process got clearly less
    than a whole core meanwhile (a loaded machine: CPU time under 80 % of the wall time), the
    process CPU time must stay under ``2 * budget`` instead."""
    started, cpu_started = time.perf_counter(), time.process_time()
    with pytest.raises(LlmspellError) as info:
        await spell.run(source, policy=policy(**limits))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    err = info.value
    assert err.code == "limit", err
    assert err.details["limit"] == name, err.details
    assert name in err.message, err.message
    starved = cpu < 0.8 * elapsed
    assert elapsed < 2 * budget or (starved and cpu < 2 * budget), (
        f"{name}: ended after {elapsed:.3f} s ({cpu:.3f} s CPU; budget {budget} s)"
    )
    return err


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("while true do end", id="loop"),
        pytest.param("local ok = pcall(function() while true do end end) return ok", id="pcall"),
        pytest.param(
            "local ok = xpcall(function() while true do end end, function() return 1 end)",
            id="xpcall",
        ),
        pytest.param(
            "local f = coroutine.wrap(function() while true do end end) f()", id="coroutine.wrap"
        ),
        pytest.param(
            "local f = coroutine.wrap(function() pcall(function() while true do end end) end)\n"
            "pcall(f)",
            id="pcall-in-wrap-in-pcall",
        ),
        pytest.param("Task.spawn(function() while true do end end)", id="spawned"),
    ],
)
async def test_cpu_limit_within_twice_the_budget(spell, source):
    err = await expect_limit_within(
        spell, source, "cpu_seconds", CPU_BUDGET, cpu_seconds=CPU_BUDGET
    )
    assert "CPU" in err.message


async def test_memory_bomb_within_twice_the_cpu_budget(spell):
    # the memory limit stops it long before the CPU budget is spent
    err = await expect_limit_within(
        spell,
        'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end',
        "memory_bytes",
        CPU_BUDGET,
        memory_bytes=MEMORY,
        cpu_seconds=CPU_BUDGET,
    )
    assert "memory" in err.message


async def test_deep_recursion_within_twice_the_cpu_budget(spell):
    err = await expect_limit_within(
        spell,
        "local function f(n) return 1 + f(n + 1) end local ok = pcall(f, 1)",
        "max_depth",
        CPU_BUDGET,
        max_depth=150,
        cpu_seconds=CPU_BUDGET,
    )
    assert "depth" in err.message


# --- catastrophic patterns ---------------------------------------------------------------------

CATASTROPHIC = 'string.rep("a", 40), string.rep("a*", 20) .. "b"'


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(f"local i = string.find({CATASTROPHIC})", id="find"),
        pytest.param(f"local m = string.match({CATASTROPHIC})", id="match"),
        pytest.param(f"for m in string.gmatch({CATASTROPHIC}) do end", id="gmatch"),
        pytest.param(f"local s = string.gsub({CATASTROPHIC}, '')", id="gsub"),
        pytest.param(
            'local s = string.rep("a", 40) local i = s:find(string.rep("a*", 20) .. "b")',
            id="method-find",
        ),
        pytest.param(
            'local s = string.rep("a", 40) local i = s:gsub(string.rep("a-", 20) .. "b", "")',
            id="method-gsub",
        ),
        pytest.param('local i = ("x"):rep(200):match(string.rep("x?", 40) .. "y")', id="optional"),
        pytest.param('local i = ("("):rep(5000):find("%b()%b()%b()")', id="balanced"),
        # the quadratic case of a big subject: (.-)b over 1 MB without any "b"
        pytest.param('local i = string.rep("a", 1e6):match("(.-)b")', id="big-subject"),
    ],
)
async def test_catastrophic_patterns_are_refused(spell, source):
    err = await expect_limit_within(
        spell, source, "pattern_cost", CPU_BUDGET, cpu_seconds=CPU_BUDGET
    )
    assert "pattern is too costly" in err.message
    assert err.message.startswith("spell.lua:1: string."), err.message
    assert err.details["budget"] == 100_000_000


async def test_a_refused_pattern_can_be_caught(spell):
    result = await spell.run(
        f"""
        local ok, e = pcall(string.find, {CATASTROPHIC})
        return {{ok, e.code, e.details.limit, e.details["function"], e.details.subject_length}}
        """
    )
    assert result == [False, "limit", "pattern_cost", "string.find", 40]


async def test_ordinary_patterns_keep_working(spell):
    result = await spell.run(
        r"""
        local out = {}
        out[1] = {("key = value"):match("^(%w+)%s*=%s*(%w+)$")}
        out[2] = {string.match("2024-01-02T10:20:30", "(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")}
        local n = 0
        for k, v in ("a=1, bb=22, ccc=333"):gmatch("(%w+)=(%w+)") do n = n + #k + #v end
        out[3] = n
        out[4] = select(2, string.rep("word  ", 20000):gsub("%s+", " "))
        local lines = 0
        for line in string.rep("some text\n", 10000):gmatch("[^\n]+") do lines = lines + 1 end
        out[5] = lines
        out[6] = ("  trim me  "):match("^%s*(.-)%s*$")
        out[7] = {string.find("a.b*c", ".b*", 1, true)}
        out[8] = ("f(a(b)c)d"):match("%b()")
        out[9] = ("THE (quick) fox"):find("%f[%a]%a+%f[%A]", 5)
        out[10] = ("hello world from lua"):gsub("(%w+) (%w+)", "%2 %1")
        out[11] = {("abcabc"):match("(a)(b)(c)%1%2%3")}
        out[12] = {("x = 1; y = 22; z = 333"):match("(%a)%s*=%s*(%d+);%s*(%a)%s*=%s*(%d+)")}
        -- just under the budget: a real worst case that still runs (C(303, 3) ~ 4.6e6 steps)
        out[13] = string.find(string.rep("a", 300), "a*a*b") == nil
        return out
        """,
        policy=policy(cpu_seconds=CPU_BUDGET),
    )
    assert result == [
        ["key", "value"],
        ["2024", "01", "02", "10", "20", "30"],
        12,
        20000,
        10000,
        "trim me",
        [2, 4],
        "(a(b)c)",
        6,
        "world hello lua from",
        ["a", "b", "c"],
        ["x", "1", "y", "22"],
        True,
    ]


# --- one spell's limit does not touch the spells running beside it ------------------------------

RUNAWAYS = {
    # the loop never yields: the others wait while it runs, then go on
    "cpu_seconds": ("while true do end", {"cpu_seconds": 0.2}),
    # yields between bursts: the others run in between
    "memory_bytes": (
        'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i '
        "if i % 100 == 0 then Task.sleep(0) end end",
        {"memory_bytes": MEMORY},
    ),
    "max_depth": (
        "local function f(n) if n % 20 == 0 then Task.sleep(0) end return 1 + f(n + 1) end "
        "return f(1)",
        {"max_depth": 150},
    ),
}


async def test_a_limit_ends_only_its_own_spell_while_others_run(spell):
    steady = """
        local n = 0
        for i = 1, 20 do
          Task.sleep(0.01)
          n = n + Tool.call('add', {a = i, b = 0})
        end
        return n
    """
    outcomes: dict[str, object] = {}

    async def run(name: str, source: str, limits: dict) -> None:
        try:
            outcomes[name] = await spell.run(source, policy=policy(**limits))
        except LlmspellError as err:
            outcomes[name] = err

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run, "steady", steady, {})
        for name, (source, limits) in RUNAWAYS.items():
            nursery.start_soon(run, name, source, limits)
        nursery.start_soon(run, "steady too", steady, {})
    assert outcomes["steady"] == outcomes["steady too"] == 210
    for name in RUNAWAYS:
        err = outcomes[name]
        assert isinstance(err, LlmspellError) and err.code == "limit", err
        assert err.details["limit"] == name


async def test_a_finished_run_and_its_runtime_are_freed_without_the_garbage_collector(spell):
    # no reference cycle holds a run, its bridge or its Lua runtime (with up to memory_bytes of
    # data): they go when the run ends, not at the collector's next full pass
    import gc

    from llmspell.runtime import SpellRun
    from llmspell_lua.bridge import LuaBridge

    def alive() -> list[str]:
        kinds = (SpellRun, LuaBridge, lupa.LuaRuntime)
        return [type(o).__name__ for o in gc.get_objects() if isinstance(o, kinds)]

    await spell.run("return 1")
    gc.collect()
    before = alive()
    gc.disable()
    try:
        for _ in range(5):
            await spell.run("local t = {} for i = 1, 1000 do t[i] = {i} end return #t")
        assert alive() == before
    finally:
        gc.enable()
