"""hooks-cost: per-run and per-model totals, budgets that stop a run with ``budget_exceeded``
(mid-workflow, keeping the state written before), its events, its settings, and spells in both
engines that hit a budget."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import HookContext, HookPoint, Skip, hookimpl
from llmspell.messages import Message, Usage
from llmspell.providers import ChatRequest, ChatResponse
from llmspell.runtime import SpellRun
from llmspell.state import SqliteBackend
from llmspell.testing import Reply, ScriptedProvider
from llmspell.workflows import Sequential, Step
from llmspell_hooks import cost


def load(toml: str = "", *, provider: ScriptedProvider | None = None, **kw: Any) -> Kernel:
    config = llmspell.config.parse(tomllib.loads(toml))
    kernel = Kernel.load(env={}, config=config, **kw)
    provider = provider if provider is not None else ScriptedProvider()
    kernel.providers.add(provider.name, provider, replace=True)
    return kernel


def request(text: str = "hi") -> ChatRequest:
    return ChatRequest(model="m", messages=[Message("user", text)])


def reply(text: str, inp: int, out: int, usd: float | None = 0.0) -> Reply:
    return Reply(text=text, usage=Usage(inp, out, usd))


# --- totals ---------------------------------------------------------------------------------


def test_hooks_cost_is_on_by_default() -> None:
    assert cost.llmspell_default_enabled is True
    assert "hooks-cost" in Kernel.load(env={}).plugins
    assert "hooks-cost" not in Kernel.load(env={}, disable=["hooks-cost"]).plugins


async def test_totals_per_run_and_per_model() -> None:
    provider = ScriptedProvider(
        [reply("a", 10, 5, 0.001), reply("b", 20, 7, 0.002), reply("c", 1, 1, None)]
    )
    kernel = load(provider=provider)
    async with SpellRun.open(kernel) as run:
        empty = cost.totals(run)
        assert empty is not None and empty.calls == 0 and empty.run_id == run.run_id
        await run.llm_call("scripted/one", request())
        await run.llm_call("scripted/two", request())
        await run.llm_call("scripted/one", request())
        during = cost.totals(run)
        assert run.run_id in cost._live
    after = cost.totals(run)
    assert after is during and after is not None
    assert run.run_id not in cost._live  # the open run's record is dropped at spell_end
    assert (after.calls, after.input_tokens, after.output_tokens) == (3, 31, 13)
    assert after.total_tokens == 44
    assert after.cost == pytest.approx(0.003)
    assert after.unpriced_calls == 1
    assert after.models["scripted/one"].to_dict() == {
        "calls": 2, "input_tokens": 11, "output_tokens": 6, "total_tokens": 17,
        "cost": pytest.approx(0.001), "unpriced_calls": 1,
    }
    assert after.models["scripted/two"].calls == 1
    assert after.exceeded == []
    assert after.to_dict()["models"]["scripted/two"]["input_tokens"] == 20


async def test_each_run_has_its_own_totals() -> None:
    kernel = load(provider=ScriptedProvider(default=reply("x", 3, 4)))
    async with SpellRun.open(kernel) as first:
        await first.llm_call("scripted/m", request())
    async with SpellRun.open(kernel) as second:
        await second.llm_call("scripted/m", request())
        await second.llm_call("scripted/m", request())
    one, two = cost.totals(first), cost.totals(second)
    assert one is not None and two is not None
    assert (one.calls, two.calls) == (1, 2)
    assert two.total_tokens == 14


async def test_a_kernel_without_the_plugin_has_no_totals() -> None:
    kernel = load(disable=["hooks-cost"], provider=ScriptedProvider(default="x"))
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/m", request())
    assert cost.totals(run) is None


async def test_streamed_calls_count_the_usage_of_the_stream() -> None:
    kernel = load(provider=ScriptedProvider([reply("one two three", 9, 3, 0.5)]))
    pieces: list[str] = []
    async with SpellRun.open(kernel) as run:
        response = await run.llm_stream(
            "scripted/m", request(), lambda chunk: pieces.append(chunk.text)
        )
    assert response.text == "one two three" and len(pieces) > 1
    spent = cost.totals(run)
    assert spent is not None
    assert (spent.calls, spent.input_tokens, spent.output_tokens, spent.cost) == (1, 9, 3, 0.5)


async def test_calls_a_hook_skipped_cost_nothing() -> None:
    class Canned:
        @hookimpl
        def llmspell_before_llm_call(self, ctx: HookContext) -> Skip:
            return Skip(ChatResponse(Message("assistant", "canned"), Usage(100, 100, 1.0)))

    kernel = load("[plugins.hooks-cost]\nmax_tokens = 10\n", plugins=[("canned", Canned())])
    async with SpellRun.open(kernel) as run:
        for _ in range(3):
            assert (await run.llm_call("scripted/m", request())).text == "canned"
    spent = cost.totals(run)
    assert spent is not None
    assert (spent.calls, spent.skipped_calls, spent.total_tokens, spent.cost) == (0, 3, 0, 0.0)


# --- budgets --------------------------------------------------------------------------------


async def test_a_budget_exceeded_mid_workflow_stops_it_and_keeps_the_state(
    tmp_path: Path,
) -> None:
    provider = ScriptedProvider(
        [reply("outline", 40, 20), reply("draft", 40, 20), reply("polish", 40, 20)]
    )
    kernel = load("[plugins.hooks-cost]\nmax_tokens = 100\n", provider=provider)

    def saver(key: str) -> Any:
        async def save(value: Any, run: SpellRun) -> Any:
            await run.state_set(key, value)
            return value

        return save

    flow = Sequential("book", [
        Step("outline", LLMAgent(name="outliner", model="scripted/m")),
        Step("keep_outline", saver("outline")),
        Step("draft", LLMAgent(name="drafter", model="scripted/m")),   # crosses 100 tokens
        Step("keep_draft", saver("draft")),
        Step("polish", LLMAgent(name="polisher", model="scripted/m")),  # refused
        Step("keep_polish", saver("polish")),
    ])
    path = tmp_path / "state.db"
    seen: list[Any] = []
    with pytest.raises(LlmspellError) as caught:
        async with SpellRun.open(kernel, name="book.py", store=SqliteBackend(path)) as run:
            run.hooks.register("after_event_emit", lambda ctx: seen.append(ctx.output)
                               if ctx.name.startswith("cost.") else None)
            await run.run_agent(flow, "a book about trio")
    err = caught.value
    assert err.code == "budget_exceeded"
    assert err.message == (
        "run 'book.py' used up its max_tokens budget: spent 120 tokens of 100 tokens; "
        "model call to 'scripted/m' refused"
    )
    assert err.details["budget"] == "max_tokens"
    assert (err.details["spent"], err.details["limit"]) == (120, 100)
    assert isinstance(err.details["spent"], int) and isinstance(err.details["limit"], int)
    assert err.details["totals"]["calls"] == 2
    # the polisher never reached the provider
    assert len(provider.requests) == 2
    # one cost.budget_exceeded event, when the draft call crossed the budget
    assert [(e.topic, e.data["budget"], e.data["spent"]) for e in seen] == [
        ("cost.budget_exceeded", "max_tokens", 120)
    ]
    # the state written before the budget stopped the workflow is kept
    async with SqliteBackend(path) as store:
        assert await store.get("global", "outline") == "outline"
        assert await store.get("global", "draft") == "draft"
        assert await store.get("global", "polish") is None
    spent = cost.totals(run)
    assert spent is not None and spent.exceeded == ["max_tokens"]


async def test_the_crossing_call_completes_and_the_next_one_fails() -> None:
    provider = ScriptedProvider(default=reply("ok", 5, 5, 0.02))
    kernel = load("[plugins.hooks-cost]\nmax_cost = 0.05\n", provider=provider)
    async with SpellRun.open(kernel, name="spender") as run:
        for _ in range(3):  # 0.02, 0.04, 0.06: the third crosses and still answers
            assert (await run.llm_call("scripted/m", request())).text == "ok"
        with pytest.raises(LlmspellError) as caught:
            await run.llm_call("scripted/other", request())
        with pytest.raises(LlmspellError):  # and every call after it
            await run.llm_call("scripted/m", request())
    assert caught.value.code == "budget_exceeded"
    assert caught.value.message == (
        "run 'spender' used up its max_cost budget: spent $0.06 of $0.05; "
        "model call to 'scripted/other' refused"
    )
    assert caught.value.details["spent"] == pytest.approx(0.06)
    assert caught.value.hint == "raise max_cost in [plugins.hooks-cost] of llmspell.toml"
    assert len(provider.requests) == 3


async def test_a_budget_reached_exactly_is_used_up() -> None:
    kernel = load("[plugins.hooks-cost]\nmax_tokens = 10\n",
                  provider=ScriptedProvider(default=reply("ok", 5, 5)))
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/m", request())
        with pytest.raises(LlmspellError, match="spent 10 tokens of 10 tokens"):
            await run.llm_call("scripted/m", request())


@pytest.mark.parametrize(
    ("budget", "limit", "spent"),
    [("max_input_tokens", 15, 16), ("max_output_tokens", 5, 6), ("max_tokens", 20, 22)],
)
async def test_each_token_budget(budget: str, limit: int, spent: int) -> None:
    kernel = load(f"[plugins.hooks-cost]\n{budget} = {limit}\n",
                  provider=ScriptedProvider(default=reply("ok", 8, 3)))
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/m", request())
        await run.llm_call("scripted/m", request())
        with pytest.raises(LlmspellError) as caught:
            await run.llm_call("scripted/m", request())
    assert caught.value.code == "budget_exceeded"
    assert (caught.value.details["budget"], caught.value.details["spent"]) == (budget, spent)


async def test_budgets_are_per_run() -> None:
    kernel = load("[plugins.hooks-cost]\nmax_tokens = 10\n",
                  provider=ScriptedProvider(default=reply("ok", 6, 6)))
    for _ in range(2):  # a new run starts with nothing spent
        async with SpellRun.open(kernel) as run:
            await run.llm_call("scripted/m", request())
            with pytest.raises(LlmspellError):
                await run.llm_call("scripted/m", request())


async def test_an_agent_stops_between_its_turns() -> None:
    """A tool-calling agent whose first turn crosses the budget cannot take a second turn."""
    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "echo", "arguments": {"text": "x"}}], usage=Usage(50, 60, 0)),
        reply("never", 1, 1),
    ])
    kernel = load("[plugins.hooks-cost]\nmax_tokens = 100\n", provider=provider)
    with pytest.raises(LlmspellError) as caught:
        async with SpellRun.open(kernel) as run:
            await run.run_agent(LLMAgent(name="a", model="scripted/m", tools=["echo"]), "go")
    assert caught.value.code == "budget_exceeded"
    assert len(provider.requests) == 1


async def test_updates_emit_the_totals_after_every_call() -> None:
    kernel = load("[plugins.hooks-cost]\nupdates = true\n",
                  provider=ScriptedProvider(default=reply("ok", 2, 3, 0.25)))
    seen: list[Any] = []
    async with SpellRun.open(kernel) as run:
        run.hooks.register("after_event_emit", lambda ctx: seen.append(ctx.output)
                           if ctx.name == "cost.updated" else None)
        await run.llm_call("scripted/m", request())
        await run.llm_call("scripted/m", request())
    assert [e.data["total_tokens"] for e in seen] == [5, 10]
    assert seen[-1].data["cost"] == 0.5
    assert seen[-1].data["models"]["scripted/m"]["calls"] == 2


async def test_no_updates_by_default() -> None:
    kernel = load(provider=ScriptedProvider(default="ok"))
    topics: list[str] = []
    async with SpellRun.open(kernel) as run:
        run.hooks.register("after_event_emit", lambda ctx: topics.append(ctx.name))
        await run.llm_call("scripted/m", request())
    assert "llm.response" in topics
    assert not [t for t in topics if t.startswith("cost.")]


# --- settings -------------------------------------------------------------------------------


def test_settings_are_read_per_kernel() -> None:
    one = load("[plugins.hooks-cost]\nmax_cost = 1\nmax_output_tokens = 7\n")
    two = load()
    assert cost.settings(one).budgets == (("max_cost", 1.0), ("max_output_tokens", 7))
    assert cost.settings(two).budgets == ()


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ("max_cost = -1", "max_cost", "must be greater than 0"),
        ("max_tokens = 0", "max_tokens", "must be a whole number greater than 0"),
        ("max_tokens = 1.5", "max_tokens", "must be int"),
        ("max_input_tokens = 'many'", "max_input_tokens", "must be int"),
        ("updates = 1", "updates", "must be bool"),
        ("max_cots = 1", "max_cots", "did you mean 'max_cost'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(line: str, key: str, problem: str) -> None:
    with pytest.raises(LlmspellError) as caught:
        load(f"[plugins.hooks-cost]\n{line}\n")
    assert caught.value.code == "config_error"
    assert caught.value.details["key"] == f"plugins.hooks-cost.{key}"
    assert problem in caught.value.message


def test_enabled_key_is_accepted() -> None:
    assert "hooks-cost" not in load("[plugins.hooks-cost]\nenabled = false\n").plugins
    assert "hooks-cost" in load("[plugins.hooks-cost]\nenabled = true\nmax_cost = 2\n").plugins


def _cost_hooks(kernel: Kernel, point: HookPoint) -> list[Any]:
    return [e for e in kernel.hooks.chain(point) if e.name.startswith("hooks-cost")]


def test_the_budget_check_exists_only_where_there_is_a_budget() -> None:
    """Without a budget a model call has no before hook of hooks-cost at all; with one, the
    check is registered in that kernel only (and replaced when the plugin is configured
    again)."""
    plain = load()
    assert _cost_hooks(plain, HookPoint.BEFORE_LLM_CALL) == []
    assert [e.name for e in _cost_hooks(plain, HookPoint.AFTER_LLM_CALL)] == [
        "hooks-cost.llmspell_after_llm_call"]
    budgeted = load("[plugins.hooks-cost]\nmax_tokens = 10\n")
    (check,) = _cost_hooks(budgeted, HookPoint.BEFORE_LLM_CALL)
    assert check.name == "hooks-cost:budgets.llmspell_before_llm_call"
    assert check.priority == cost.PRIORITY
    assert _cost_hooks(plain, HookPoint.BEFORE_LLM_CALL) == []
    cost.llmspell_configure(llmspell.config.parse(tomllib.loads("")), budgeted)
    assert _cost_hooks(budgeted, HookPoint.BEFORE_LLM_CALL) == []
    assert cost.settings(budgeted).budgets == ()


def test_the_hooks_are_cheap() -> None:
    """A generous bound: both hooks together well under 10 µs per call (they do one dict
    look-up and a few additions, about 0.5 µs; the agent turn they are part of takes ~250 µs)."""
    kernel = load("[plugins.hooks-cost]\nmax_cost = 1000\nmax_tokens = 100000000\n")
    (check,) = _cost_hooks(kernel, HookPoint.BEFORE_LLM_CALL)

    class FakeRun:
        def __init__(self) -> None:
            self.kernel, self.run_id, self.name = kernel, "r", "fake"

    fake = FakeRun()
    out = ChatResponse(Message("assistant", "x"), Usage(1, 1, 0.0))
    before = HookContext(HookPoint.BEFORE_LLM_CALL, "llm_call", "scripted/m", run_id="r",
                         run=fake)
    after = HookContext(HookPoint.AFTER_LLM_CALL, "llm_call", "scripted/m", output=out,
                        run_id="r", run=fake)
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        check.function(before)
        assert cost.llmspell_after_llm_call(after) is None
    per_call = (time.perf_counter() - start) / n
    assert per_call < 10e-6
    spent = cost.totals(fake)
    assert spent is not None and spent.calls == n
    assert spent.models["scripted/m"].calls == n and spent.total_tokens == 2 * n
    cost._live.pop("r", None)


# --- spells ---------------------------------------------------------------------------------

SPELLS = {
    "lua": """
local writer = Agent.create{name = "writer", model = "scripted/m"}
local first = writer:run("one")
State.set("first", first.text)
local second = writer:run("two")   -- crosses the budget, still answers
local ok, err = pcall(function() return writer:run("three") end)
return {first = first.text, second = second.text, ok = ok, code = err.code,
        budget = err.details.budget, spent = err.details.spent, limit = err.details.limit}
""",
    "js": """
const writer = await Agent.create({name: "writer", model: "scripted/m"});
const first = await writer.run("one");
await State.set("first", first.text);
const second = await writer.run("two");
let out = {ok: true};
try { await writer.run("three"); }
catch (err) {
  out = {ok: false, code: err.code, budget: err.details.budget, spent: err.details.spent,
         limit: err.details.limit};
}
export default {first: first.text, second: second.text, ...out};
""",
}

UNCAUGHT = {
    "lua": """
local writer = Agent.create{name = "writer", model = "scripted/m"}
for i = 1, 10 do writer:run("again") end
""",
    "js": """
const writer = await Agent.create({name: "writer", model: "scripted/m"});
for (let i = 0; i < 10; i++) { await writer.run("again"); }
""",
}


@pytest.fixture(params=["lua", "js"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_spell_sees_budget_exceeded(lang: str) -> None:
    provider = ScriptedProvider(default=reply("words", 30, 30, 0.0))
    kernel = load("[plugins.hooks-cost]\nmax_tokens = 100\n", provider=provider)
    async with SpellRun.open(kernel, name=f"budget.{lang}") as run:
        out = await kernel.engines.get(lang).run(SPELLS[lang], f"budget.{lang}", run)
        assert await run.state_get("first") == "words"
    assert out == {"first": "words", "second": "words", "ok": False, "code": "budget_exceeded",
                   "budget": "max_tokens", "spent": 120, "limit": 100}
    assert len(provider.requests) == 2


async def test_a_spell_that_does_not_catch_it_ends_with_budget_exceeded(lang: str) -> None:
    provider = ScriptedProvider(default=reply("words", 10, 10, 0.01))
    kernel = load("[plugins.hooks-cost]\nmax_cost = 0.025\n", provider=provider)
    with pytest.raises(LlmspellError) as caught:
        async with SpellRun.open(kernel, name=f"loop.{lang}") as run:
            await kernel.engines.get(lang).run(UNCAUGHT[lang], f"loop.{lang}", run)
    assert caught.value.code == "budget_exceeded"
    assert caught.value.details["budget"] == "max_cost"
    assert len(provider.requests) == 3  # 0.01, 0.02, 0.03 (crossing); the fourth is refused
