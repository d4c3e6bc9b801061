"""hooks-retry: tool calls that fail with a retryable code run again, with backoff, within the
plugin's attempts and the policy's max_hook_retries."""

from __future__ import annotations

import random
import tomllib
from typing import Any

import pytest
import trio

import llmspell.config
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy
from llmspell.testing import Reply, ScriptedProvider
from llmspell.tools import Tool
from llmspell_hooks import retry


def make_kernel(toml: str = "", *, enable: bool = True) -> Kernel:
    config = llmspell.config.parse(tomllib.loads(toml))
    return Kernel.load(env={}, enable=["hooks-retry"] if enable else [], config=config)


class Flaky:
    """A tool failing ``failures`` times (with ``error``, or a ConnectionError), then working."""

    def __init__(self, name: str = "flaky", failures: int = 2, *, error: Exception | None = None,
                 requires_approval: bool = False) -> None:
        self.calls = 0
        self.failures = failures
        self.error = error

        async def run(args: dict[str, Any], ctx: Any) -> Any:
            self.calls += 1
            if self.calls <= self.failures:
                raise self.error or ConnectionError(f"service unavailable ({self.calls})")
            return "ok"

        self.tool = Tool(name=name, description="Fails, then works.", run=run,
                         requires_approval=requires_approval)


def record_events(run: SpellRun, topic: str = "tool.retrying") -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    run.hooks.register(
        "after_event_emit", lambda ctx: seen.append(ctx.input) if ctx.name == topic else None
    )
    return seen


async def test_a_flaky_tool_succeeds_on_its_third_attempt(autojump_clock):
    kernel = make_kernel()
    flaky = Flaky()
    kernel.tools.register(flaky.tool)
    retry.use_random(kernel, random.Random(7))
    expected = random.Random(7)
    delays = [expected.uniform(0, 0.1), expected.uniform(0, 0.2)]  # full jitter, base 0.1, x2
    async with SpellRun.open(kernel) as run:
        events = record_events(run)
        started = trio.current_time()
        assert await run.call_tool("flaky", {}) == "ok"
        elapsed = trio.current_time() - started
    assert flaky.calls == 3
    assert [(e["tool"], e["attempt"], e["attempts"]) for e in events] == [
        ("flaky", 1, 3), ("flaky", 2, 3)
    ]
    assert [e["delay"] for e in events] == delays
    assert events[0]["error"]["code"] == "tool_error"
    assert "service unavailable (1)" in events[0]["error"]["message"]
    assert elapsed == pytest.approx(sum(delays))


async def test_backoff_without_jitter_is_exponential_and_capped(autojump_clock):
    kernel = make_kernel(
        "[plugins.hooks-retry]\nattempts = 4\n"
        "backoff = {base = 0.5, multiplier = 3, max = 1.0, jitter = false}\n"
    )
    flaky = Flaky(failures=3)
    kernel.tools.register(flaky.tool)
    async with SpellRun.open(kernel) as run:
        events = record_events(run)
        assert await run.call_tool("flaky", {}) == "ok"
    assert [e["delay"] for e in events] == [0.5, 1.0, 1.0]


async def test_non_retryable_errors_are_not_retried(autojump_clock):
    kernel = make_kernel()
    refused = Flaky("refused", error=LlmspellError("permission_denied", "no"))
    kernel.tools.register(refused.tool)
    checked = Tool(name="checked", description="Needs text.", run=refused.tool.run,
                   parameters={"type": "object", "properties": {"text": {"type": "string"}},
                               "required": ["text"]})
    kernel.tools.register(checked)
    provider = ScriptedProvider(default=Reply(error=ConnectionError("down")))
    kernel.providers.add(provider.name, provider, replace=True)
    async with SpellRun.open(kernel) as run:
        events = record_events(run)
        with pytest.raises(LlmspellError) as err:
            await run.call_tool("refused", {})
        assert err.value.code == "permission_denied"
        with pytest.raises(LlmspellError) as err:
            await run.call_tool("checked", {})
        assert err.value.code == "invalid_args"
        from llmspell.messages import Message
        from llmspell.providers import ChatRequest

        with pytest.raises(LlmspellError) as err:  # not a tool call: never retried here
            await run.llm_call("scripted/m", ChatRequest("m", [Message("user", "hi")]))
        assert err.value.code == "provider_error"
    assert refused.calls == 1
    assert len(provider.requests) == 1
    assert events == []


async def test_the_attempts_limit_is_honoured(autojump_clock):
    kernel = make_kernel("[plugins.hooks-retry.tools.stubborn]\nattempts = 10\n")
    broken = Flaky("broken", failures=100)
    stubborn = Flaky("stubborn", failures=100)
    kernel.tools.register(broken.tool)
    kernel.tools.register(stubborn.tool)
    async with SpellRun.open(kernel) as run:
        events = record_events(run)
        with pytest.raises(LlmspellError) as err:
            await run.call_tool("broken", {})
        # the last attempt's error, unchanged
        assert err.value.code == "tool_error"
        assert "service unavailable (3)" in err.value.message
        assert broken.calls == 3
        assert len(events) == 2
        # 10 attempts wanted, but the policy allows 3 retries (max_hook_retries)
        with pytest.raises(LlmspellError):
            await run.call_tool("stubborn", {})
        assert stubborn.calls == 4
        assert [e["attempts"] for e in events[2:]] == [4, 4, 4]


async def test_the_policy_bound_wins_and_no_retry_is_announced_past_it(autojump_clock):
    kernel = make_kernel()
    flaky = Flaky()
    kernel.tools.register(flaky.tool)
    async with SpellRun.open(kernel, policy=SecurityPolicy(max_hook_retries=1)) as run:
        events = record_events(run)
        with pytest.raises(LlmspellError) as err:
            await run.call_tool("flaky", {})
    assert "service unavailable (2)" in err.value.message
    assert flaky.calls == 2
    assert [e["attempt"] for e in events] == [1]


async def test_codes_and_per_tool_overrides(autojump_clock):
    kernel = make_kernel(
        '[plugins.hooks-retry]\ncodes = ["tool_error"]\n'
        '[plugins.hooks-retry.tools.slow]\ncodes = ["timeout"]\nattempts = 2\n'
    )
    timing_out = Flaky("timing_out", error=LlmspellError("timeout", "too slow"))
    slow = Flaky("slow", error=LlmspellError("timeout", "too slow"))
    kernel.tools.register(timing_out.tool)
    kernel.tools.register(slow.tool)
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError):
            await run.call_tool("timing_out", {})  # timeout is not among the codes
        with pytest.raises(LlmspellError):
            await run.call_tool("slow", {})  # retried once: 2 attempts
    assert timing_out.calls == 1
    assert slow.calls == 2


async def test_destructive_tools_are_retried_only_when_listed(autojump_clock):
    kernel = make_kernel(
        '[plugins.hooks-retry]\ndestructive = ["mailer"]\ndeny = ["web_*"]\n'
        '[plugins.hooks-retry.tools.wipe_listed]\n'
    )
    wipe = Flaky("wipe", requires_approval=True)
    wipe_listed = Flaky("wipe_listed", requires_approval=True)
    mailer = Flaky("mailer")
    web = Flaky("web_flaky")
    named = Flaky("named")  # needs approval by the run's policy
    for t in (wipe, wipe_listed, mailer, web, named):
        kernel.tools.register(t.tool)
    policy = SecurityPolicy(auto_approve=True, approve_tools=("named",))
    async with SpellRun.open(kernel, policy=policy) as run:
        for t in (wipe, mailer, web, named):
            with pytest.raises(LlmspellError):
                await run.call_tool(t.tool.name, {})
        assert await run.call_tool("wipe_listed", {}) == "ok"
    assert (wipe.calls, mailer.calls, web.calls, named.calls) == (1, 1, 1, 1)
    assert wipe_listed.calls == 3


async def test_allowlist(autojump_clock):
    kernel = make_kernel('[plugins.hooks-retry]\nallow = ["net_*", "wipe"]\n')
    net = Flaky("net_get")
    other = Flaky("other")
    wipe = Flaky("wipe", requires_approval=True)  # listed by its exact name
    for t in (net, other, wipe):
        kernel.tools.register(t.tool)
    async with SpellRun.open(kernel, policy=SecurityPolicy(auto_approve=True)) as run:
        assert await run.call_tool("net_get", {}) == "ok"
        assert await run.call_tool("wipe", {}) == "ok"
        with pytest.raises(LlmspellError):
            await run.call_tool("other", {})
    assert (net.calls, wipe.calls, other.calls) == (3, 3, 1)


async def test_an_agent_sees_the_eventual_success(autojump_clock):
    from llmspell.agents import LLMAgent

    kernel = make_kernel()
    flaky = Flaky()
    kernel.tools.register(flaky.tool)
    provider = ScriptedProvider([
        {"tool_calls": [{"name": "flaky", "arguments": {}}]},
        lambda request: Reply(text=f"tool said {request.messages[-1].content}"),
    ])
    kernel.providers.add(provider.name, provider, replace=True)
    agent = LLMAgent(name="worker", model="scripted/m", tools=["flaky"])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "go")
    assert result.text == 'tool said "ok"'
    assert flaky.calls == 3


LUA = """
local out = Tool.call("flaky", {})
return out
"""

JS = """
const out = await Tool.call("flaky", {});
export default out;
"""


@pytest.mark.parametrize(("engine", "source"), [("lua", LUA), ("js", JS)])
async def test_spells_see_the_eventual_success(engine, source, autojump_clock):
    kernel = make_kernel()
    flaky = Flaky()
    kernel.tools.register(flaky.tool)
    async with SpellRun.open(kernel, name=f"x.{engine}") as run:
        events = record_events(run)
        result = await kernel.engines.get(engine).run(source, f"x.{engine}", run)
    assert result == "ok"
    assert flaky.calls == 3
    assert [e["attempt"] for e in events] == [1, 2]


async def test_spell_defined_tools_are_retried(autojump_clock):
    kernel = make_kernel()
    source = """
    local calls = 0
    Tool.define{name = "wobbly", description = "Fails twice.", run = function(args)
      calls = calls + 1
      if calls < 3 then error({code = "tool_error", message = "busy " .. calls}) end
      return calls
    end}
    return Tool.call("wobbly", {})
    """
    async with SpellRun.open(kernel, name="x.lua") as run:
        assert await kernel.engines.get("lua").run(source, "x.lua", run) == 3


def test_off_by_default_and_enabled_from_the_file():
    assert "hooks-retry" not in make_kernel(enable=False).plugins
    kernel = make_kernel("[plugins.hooks-retry]\nenabled = true\n", enable=False)
    assert "hooks-retry" in kernel.plugins


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("attempts = 0", "plugins.hooks-retry.attempts", "at least 1"),
        ('codes = ["tool_eror"]', "plugins.hooks-retry.codes", "did you mean 'tool_error'"),
        ("backoff = {base = 2, max = 1}", "plugins.hooks-retry.backoff.max", "at least base"),
        ("backoff = {jiter = true}", "plugins.hooks-retry.backoff.jiter", "not a known"),
        ("atempts = 2", "plugins.hooks-retry.atempts", "did you mean 'attempts'"),
        ("allow = \"x\"", "plugins.hooks-retry.allow", "list of tool names"),
        ("[plugins.hooks-retry.tools.x]\nretries = 1", "plugins.hooks-retry.tools.x.retries",
         "not a known"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(toml, key, problem):
    if not toml.startswith("["):
        toml = "[plugins.hooks-retry]\n" + toml
    with pytest.raises(LlmspellError) as err:
        make_kernel(toml)
    assert err.value.code == "config_error"
    assert err.value.details["key"] == key
    assert problem in err.value.message


def test_unknown_tools_are_not_destructive():
    settings = retry.parse_settings(llmspell.config.Table("plugins.hooks-retry", {}))
    assert settings.policy_for("anything", destructive=False) == retry.Policy()
    assert settings.policy_for("anything", destructive=True) is None
