"""hooks-circuit: a breaker per provider and per tool opens after consecutive failures, fails
fast while open, half-opens after the cooldown and closes or re-opens on the trial's outcome."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import trio

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.messages import Message
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider
from llmspell.tools import Tool
from llmspell_hooks import circuit

BASE = "[plugins.hooks-circuit]\nfailure_threshold = 3\ncooldown = 10\n"


def make_kernel(toml: str = BASE, *, enable: tuple[str, ...] = ("hooks-circuit",)) -> Kernel:
    config = llmspell.config.parse(tomllib.loads(toml))
    return Kernel.load(env={}, enable=list(enable), config=config)


def down(name: str) -> ScriptedProvider:
    return ScriptedProvider(name=name, default=Reply(error=ConnectionError(f"{name} is down")))


def add(kernel: Kernel, *providers: ScriptedProvider) -> None:
    for p in providers:
        kernel.providers.add(p.name, p, replace=True)


def request() -> ChatRequest:
    return ChatRequest("m", [Message("user", "hi")])


def record(run: SpellRun, prefix: str = "circuit.") -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def hook(ctx: Any) -> None:
        if ctx.name.startswith(prefix):
            seen.append((ctx.name, ctx.input))

    run.hooks.register("after_event_emit", hook)
    return seen


class Switch:
    """A tool that fails (tool_error) while ``failing`` and counts its calls."""

    def __init__(self, name: str = "switch", *, failing: bool = True, delay: float = 0) -> None:
        self.calls = 0
        self.failing = failing

        async def run(args: dict[str, Any], ctx: Any) -> Any:
            self.calls += 1
            if delay:
                await trio.sleep(delay)
            if self.failing:
                raise ConnectionError("unreachable")
            return "ok"

        self.tool = Tool(name=name, description="Fails while told to.", run=run)


async def fail(coro: Any) -> LlmspellError:
    with pytest.raises(LlmspellError) as err:
        await coro
    return err.value


async def test_a_provider_circuit_opens_after_n_failures_and_fails_fast(autojump_clock):
    kernel = make_kernel()
    provider = down("flaky")
    add(kernel, provider)
    async with SpellRun.open(kernel) as run:
        events = record(run)
        for _ in range(3):
            err = await fail(run.llm_call("flaky/m", request()))
            assert err.details.get("reason") is None  # the provider's own failure
        assert circuit.state(kernel, "provider", "flaky") == "open"
        for _ in range(5):
            err = await fail(run.llm_call("flaky/other-model", request()))
            assert err.code == "provider_error"
            assert err.details["reason"] == "circuit_open"
            assert err.details["provider"] == "flaky"
            assert err.details["model"] == "flaky/other-model"
            assert "circuit is open after 3 consecutive failures" in err.message
    assert len(provider.requests) == 3  # nothing reached it while open
    assert [(t, d["name"], d["target"], d["failures"], d["reason"]) for t, d in events] == [
        ("circuit.opened", "flaky", "provider", 3, "failure_threshold")
    ]


async def test_half_open_after_the_cooldown_and_closed_by_a_successful_trial(autojump_clock):
    kernel = make_kernel()
    provider = down("flaky")
    add(kernel, provider)
    async with SpellRun.open(kernel) as run:
        events = record(run)
        for _ in range(3):
            await fail(run.llm_call("flaky/m", request()))
        opened = trio.current_time()
        await trio.sleep(9.5)
        err = await fail(run.llm_call("flaky/m", request()))
        assert err.details["reason"] == "circuit_open"
        assert err.details["retry_after"] == pytest.approx(0.5)
        await trio.sleep(0.5)
        assert trio.current_time() - opened == pytest.approx(10)
        provider.default = Reply(text="back")
        response = await run.llm_call("flaky/m", request())
        assert response.text == "back"
        assert circuit.state(kernel, "provider", "flaky") == "closed"
        # closed again: failures count from zero
        provider.default = Reply(error=ConnectionError("down again"))
        for _ in range(2):
            await fail(run.llm_call("flaky/m", request()))
        assert circuit.state(kernel, "provider", "flaky") == "closed"
    assert len(provider.requests) == 3 + 1 + 2
    assert [t for t, _ in events] == ["circuit.opened", "circuit.half_open", "circuit.closed"]


async def test_a_failed_trial_reopens_the_circuit(autojump_clock):
    kernel = make_kernel()
    provider = down("flaky")
    add(kernel, provider)
    async with SpellRun.open(kernel) as run:
        events = record(run)
        for _ in range(3):
            await fail(run.llm_call("flaky/m", request()))
        await trio.sleep(10)
        err = await fail(run.llm_call("flaky/m", request()))  # the trial reaches the provider
        assert err.details.get("reason") is None
        assert circuit.state(kernel, "provider", "flaky") == "open"
        err = await fail(run.llm_call("flaky/m", request()))
        assert err.details["reason"] == "circuit_open"
        assert len(provider.requests) == 4
        await trio.sleep(10)  # a full new cooldown, then another trial
        provider.default = Reply(text="fine")
        assert (await run.llm_call("flaky/m", request())).text == "fine"
    assert len(provider.requests) == 5
    assert [(t, d.get("reason")) for t, d in events] == [
        ("circuit.opened", "failure_threshold"),
        ("circuit.half_open", None),
        ("circuit.opened", "trial_failed"),
        ("circuit.half_open", None),
        ("circuit.closed", None),
    ]


async def test_a_fallback_chain_skips_an_open_provider(autojump_clock):
    kernel = make_kernel("[plugins.hooks-circuit]\nfailure_threshold = 2\ncooldown = 60\n")
    primary = down("primary")
    backup = ScriptedProvider(name="backup", default=Reply(text="from the backup"))
    add(kernel, primary, backup)
    agent = LLMAgent(name="writer", model=("primary/x", "backup/y"))
    async with SpellRun.open(kernel) as run:
        fallbacks = record(run, "llm.fallback")
        for _ in range(5):
            assert (await run.run_agent(agent, "hello")).text == "from the backup"
    assert len(primary.requests) == 2
    assert len(backup.requests) == 5
    reasons = [d["error"]["details"].get("reason") for _, d in fallbacks]
    assert reasons == [None, None, "circuit_open", "circuit_open", "circuit_open"]


async def test_half_open_admits_only_half_open_max_trials(autojump_clock):
    kernel = make_kernel(BASE + "half_open_max = 1\n")
    switch = Switch(delay=1.0)
    kernel.tools.register(switch.tool)
    async with SpellRun.open(kernel) as run:
        for _ in range(3):
            await fail(run.call_tool("switch", {}))
        await trio.sleep(10)
        switch.failing = False
        outcomes: list[Any] = []

        async def call() -> None:
            try:
                outcomes.append(await run.call_tool("switch", {}))
            except LlmspellError as err:
                outcomes.append((err.code, err.details["reason"], err.details["state"]))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call)
            await trio.sleep(0.1)
            nursery.start_soon(call)  # while the trial runs
        assert outcomes == [("tool_error", "circuit_open", "half_open"), "ok"]
        assert circuit.state(kernel, "tool", "switch") == "closed"
        assert await run.call_tool("switch", {}) == "ok"
    assert switch.calls == 3 + 1 + 1


async def test_tool_circuits_fail_fast_with_tool_error_and_stop_retries(autojump_clock):
    kernel = make_kernel(
        "[plugins.hooks-circuit]\nfailure_threshold = 2\n"
        "[plugins.hooks-retry]\nattempts = 5\n",
        enable=("hooks-circuit", "hooks-retry"),
    )
    switch = Switch()
    kernel.tools.register(switch.tool)
    async with SpellRun.open(kernel) as run:
        retries = record(run, "tool.retrying")
        err = await fail(run.call_tool("switch", {}))
        assert err.details.get("reason") is None
        # attempt 1 failed and was retried; attempt 2 failed and opened the circuit: no retry
        assert switch.calls == 2
        assert len(retries) == 1
        err = await fail(run.call_tool("switch", {}))
        assert (err.code, err.details["reason"], err.details["tool"]) == (
            "tool_error", "circuit_open", "switch"
        )
        assert err.message.startswith("tool 'switch' is unavailable: its circuit is open")
    assert switch.calls == 2
    assert len(retries) == 1


async def test_successes_reset_the_count_and_other_errors_do_not_count(autojump_clock):
    kernel = make_kernel()
    switch = Switch()
    checked = Tool(name="checked", description="Needs text.", run=switch.tool.run,
                   parameters={"type": "object", "required": ["text"],
                               "properties": {"text": {"type": "string"}}})
    kernel.tools.register(switch.tool)
    kernel.tools.register(checked)
    async with SpellRun.open(kernel) as run:
        for _ in range(2):
            await fail(run.call_tool("switch", {}))
        switch.failing = False
        await run.call_tool("switch", {})
        switch.failing = True
        for _ in range(2):
            await fail(run.call_tool("switch", {}))
        for _ in range(5):
            assert (await fail(run.call_tool("checked", {}))).code == "invalid_args"
        assert circuit.state(kernel, "tool", "switch") == "closed"
        assert circuit.state(kernel, "tool", "checked") == "closed"
        await fail(run.call_tool("switch", {}))
        assert circuit.state(kernel, "tool", "switch") == "open"


async def test_overrides_per_provider_and_tool(autojump_clock):
    kernel = make_kernel(
        BASE
        + "[plugins.hooks-circuit.providers.fragile]\nfailure_threshold = 1\n"
        + "[plugins.hooks-circuit.tools.switch]\nenabled = false\n"
    )
    fragile, sturdy = down("fragile"), down("sturdy")
    add(kernel, fragile, sturdy)
    switch = Switch()
    kernel.tools.register(switch.tool)
    async with SpellRun.open(kernel) as run:
        await fail(run.llm_call("fragile/m", request()))
        await fail(run.llm_call("sturdy/m", request()))
        assert circuit.state(kernel, "provider", "fragile") == "open"
        assert circuit.state(kernel, "provider", "sturdy") == "closed"
        for _ in range(6):
            await fail(run.call_tool("switch", {}))
    assert switch.calls == 6


async def test_state_is_per_kernel_and_shared_by_its_runs(autojump_clock):
    first, second = make_kernel(), make_kernel()
    providers = {k: down("flaky") for k in ("first", "second")}
    add(first, providers["first"])
    add(second, providers["second"])
    async with SpellRun.open(first) as run:
        for _ in range(3):
            await fail(run.llm_call("flaky/m", request()))
    async with SpellRun.open(first) as run:  # another run of the same kernel
        assert (await fail(run.llm_call("flaky/m", request()))).details["reason"] == "circuit_open"
    async with SpellRun.open(second) as run:
        assert (await fail(run.llm_call("flaky/m", request()))).details.get("reason") is None
    assert len(providers["first"].requests) == 3
    assert len(providers["second"].requests) == 1
    circuit.reset(first)
    assert circuit.state(first, "provider", "flaky") == "closed"


LUA = """
local codes = {}
for i = 1, 5 do
  local ok, err = pcall(Tool.call, "switch", {})
  codes[#codes + 1] = err.details.reason or err.code
end
local writer = Agent.create{name = "writer", model = {"dead/x", "scripted/y"}}
local texts = {}
for i = 1, 4 do texts[#texts + 1] = writer:run("hi").text end
return {codes = codes, texts = texts}
"""

JS = """
const codes = [];
for (let i = 0; i < 5; i++) {
  try { await Tool.call("switch", {}); } catch (err) { codes.push(err.details.reason ?? err.code); }
}
const writer = await Agent.create({name: "writer", model: ["dead/x", "scripted/y"]});
const texts = [];
for (let i = 0; i < 4; i++) texts.push((await writer.run("hi")).text);
export default {codes, texts};
"""


@pytest.mark.parametrize(("engine", "source"), [("lua", LUA), ("js", JS)])
async def test_spells_see_circuits_open(engine, source, autojump_clock):
    kernel = make_kernel()
    switch = Switch()
    kernel.tools.register(switch.tool)
    dead = down("dead")
    scripted = ScriptedProvider(default=Reply(text="alive"))
    add(kernel, dead, scripted)
    async with SpellRun.open(kernel, name=f"x.{engine}") as run:
        events = record(run)
        result = await kernel.engines.get(engine).run(source, f"x.{engine}", run)
    assert result["codes"] == ["tool_error"] * 3 + ["circuit_open"] * 2
    assert result["texts"] == ["alive"] * 4
    assert switch.calls == 3
    assert len(dead.requests) == 3
    assert [(t, d["target"], d["name"]) for t, d in events] == [
        ("circuit.opened", "tool", "switch"), ("circuit.opened", "provider", "dead")
    ]


def test_off_by_default():
    assert "hooks-circuit" not in make_kernel("", enable=()).plugins


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("failure_threshold = 0", "plugins.hooks-circuit.failure_threshold", "at least 1"),
        ("cooldown = -1", "plugins.hooks-circuit.cooldown", "greater than 0"),
        ("half_open_max = 1.5", "plugins.hooks-circuit.half_open_max", "must be int"),
        ('apply_to = ["models"]', "plugins.hooks-circuit.apply_to", "providers"),
        ('tool_codes = ["tool-error"]', "plugins.hooks-circuit.tool_codes", "did you mean"),
        ("threshold = 2", "plugins.hooks-circuit.threshold", "not a known setting"),
        ("[plugins.hooks-circuit.tools.x]\ncooldown = 0",
         "plugins.hooks-circuit.tools.x.cooldown", "greater than 0"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(toml, key, problem):
    if not toml.startswith("["):
        toml = "[plugins.hooks-circuit]\n" + toml
    with pytest.raises(LlmspellError) as err:
        make_kernel(toml)
    assert err.value.code == "config_error"
    assert err.value.details["key"] == key
    assert problem in err.value.message


async def test_apply_to_limits_the_breakers(autojump_clock):
    kernel = make_kernel(BASE + 'apply_to = ["tools"]\n')
    provider = down("flaky")
    add(kernel, provider)
    async with SpellRun.open(kernel) as run:
        for _ in range(5):
            await fail(run.llm_call("flaky/m", request()))
    assert len(provider.requests) == 5
