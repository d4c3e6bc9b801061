"""The component model: LLMAgent's tool loop, agent-as-tool, a sequential workflow, streaming."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

from llmspell.agents import LLMAgent, agent_tool
from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, hookimpl
from llmspell.messages import Message
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool
from llmspell.workflows import Sequential, Step


def wait_tool() -> Tool:
    async def run(args: dict[str, Any], ctx: Any) -> Any:
        await trio.sleep(args["seconds"])
        return {"waited": args["seconds"]}

    return Tool(
        name="wait",
        description="wait",
        run=run,
        parameters={
            "type": "object",
            "properties": {"seconds": {"type": "number"}},
            "required": ["seconds"],
        },
    )


async def test_multi_turn_tool_loop_feeds_results_back_to_the_model() -> None:
    provider = ScriptedProvider(
        [
            Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0}}]),
            Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0.01}}]),
            "all done",
        ]
    )
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="waiter", model="scripted/m", instructions="wait", tools=[wait_tool()])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "please wait")
    assert result.text == "all done"
    assert result.agents == ["waiter"]
    assert [c["result"] for c in result.tool_calls] == [{"waited": 0}, {"waited": 0.01}]
    assert [m.role for m in result.messages] == [
        "system", "user", "assistant", "tool", "assistant", "tool", "assistant"
    ]
    last_request = provider.requests[-1]
    assert json.loads(last_request.messages[-1].content) == {"waited": 0.01}
    assert result.usage.input_tokens > 0


async def test_two_tool_calls_of_one_reply_run_concurrently() -> None:
    provider = ScriptedProvider(
        [
            Reply(
                tool_calls=[
                    {"name": "wait", "arguments": {"seconds": 0.2}},
                    {"name": "wait", "arguments": {"seconds": 0.2}},
                ]
            ),
            "ok",
        ]
    )
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="a", model="scripted/m", tools=[wait_tool()])
    async with SpellRun.open(kernel) as run:
        start = trio.current_time()
        result = await run.run_agent(agent, "go")
        elapsed = trio.current_time() - start
    assert len(result.tool_calls) == 2
    assert elapsed < 0.35


async def test_tool_errors_go_back_to_the_model_as_error_objects() -> None:
    provider = ScriptedProvider(
        [Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": "soon"}}]), "sorry"]
    )
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="a", model="scripted/m", tools=[wait_tool()])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "go")
    sent = json.loads(provider.requests[-1].messages[-1].content)
    assert sent["error"]["code"] == "invalid_args"
    assert result.text == "sorry"


async def test_max_turns_ends_a_loop_that_never_answers() -> None:
    provider = ScriptedProvider(
        default=Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0}}])
    )
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="loopy", model="scripted/m", tools=[wait_tool()], max_turns=3)
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(agent, "go")
    assert info.value.code == "limit" and "max_turns=3" in info.value.message
    assert len(provider.requests) == 3


async def test_structured_output_is_parsed_and_validated() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    provider = ScriptedProvider(['{"n": 3}', '{"m": 1}'])
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="s", model="scripted/m", output_schema=schema, max_reasks=0)
    async with SpellRun.open(kernel) as run:
        assert (await run.run_agent(agent, "count")).data == {"n": 3}
        with pytest.raises(LlmspellError, match="does not match the output schema"):
            await run.run_agent(agent, "count")
    assert provider.requests[0].output_schema == schema


async def test_agent_as_tool_nested_two_deep_and_agent_hooks_fire() -> None:
    seen: list[str] = []

    class AgentHooks:
        @hookimpl
        def llmspell_before_agent(self, ctx: HookContext) -> None:
            seen.append(ctx.name)

    def route(request: ChatRequest) -> Reply:
        system = request.messages[0].content if request.messages[0].role == "system" else ""
        last = request.messages[-1]
        if last.role == "tool":
            return Reply(text=f"{system} got {json.loads(last.content)}")
        if system == "inner":
            return Reply(text="inner answer")
        target = "inner" if system == "middle" else "middle"
        return Reply(tool_calls=[{"name": target, "arguments": {"input": "ask"}}])

    kernel = make_kernel(provider=ScriptedProvider(default=route), plugins=[("h", AgentHooks())])
    inner = LLMAgent(name="inner", model="scripted/m", instructions="inner")
    middle = LLMAgent(
        name="middle", model="scripted/m", instructions="middle", tools=[agent_tool(inner)]
    )
    outer = LLMAgent(
        name="outer", model="scripted/m", instructions="outer", tools=[agent_tool(middle)]
    )
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(outer, "start")
    assert result.text == "outer got middle got inner answer"
    assert seen == ["outer", "middle", "inner"]


async def test_sequential_workflow_feeds_each_output_to_the_next_step() -> None:
    steps_seen: list[str] = []

    class StepHooks:
        @hookimpl
        def llmspell_before_workflow_step(self, ctx: HookContext) -> None:
            steps_seen.append(ctx.name)

    provider = ScriptedProvider(default=lambda req: "summary of " + req.messages[-1].content)
    kernel = make_kernel(provider=provider, plugins=[("h", StepHooks())])
    summarizer = LLMAgent(name="summarizer", model="scripted/m")

    async def shout(value: Any, run: SpellRun) -> Any:
        return value.upper()

    flow = Sequential(
        "pipeline",
        [
            Step("fetch", lambda value, run: f"text about {value}"),
            Step("summarize", summarizer),
            Step("shout", shout),
        ],
    )
    async with SpellRun.open(kernel) as run:
        sub = run.events.subscribe("workflow.**")
        result = await run.run_agent(flow, "trio")
        topics = [sub.receive_nowait().topic for _ in range(8)]
    assert result.data == "SUMMARY OF TEXT ABOUT TRIO"
    assert result.agents == ["summarizer"]
    assert steps_seen == ["pipeline/fetch", "pipeline/summarize", "pipeline/shout"]
    assert topics[0] == "workflow.started" and topics[-1] == "workflow.finished"


async def test_llm_stream_delivers_chunks_and_assembles_the_response() -> None:
    provider = ScriptedProvider([Reply(text="one two three", delay=0.03)])
    kernel = make_kernel(provider=provider)
    chunks: list[str] = []
    async with SpellRun.open(kernel) as run:
        response = await run.llm_stream(
            "scripted/m",
            ChatRequest(model="", messages=[Message("user", "count")]),
            lambda chunk: chunks.append(chunk.text),
        )
    assert chunks[:3] == ["one ", "two ", "three"]
    assert response.text == "one two three"
    assert response.usage.output_tokens > 0


async def test_unknown_provider_prefix_names_what_exists() -> None:
    kernel = make_kernel()
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError) as info:
            await run.llm_call("scriptd/m", ChatRequest(model="", messages=[]))
    assert info.value.code == "not_found"
    assert "did you mean 'scripted'" in info.value.message


async def test_parallel_workflow_runs_branches_concurrently_with_a_limit() -> None:
    from llmspell.workflows import Parallel

    started: list[str] = []

    def sleeper(name: str) -> Any:
        async def go(value: Any, run: SpellRun) -> Any:
            started.append(name)
            await trio.sleep(0.2)
            return f"{name}:{value}"

        return go

    flow = Parallel("fan", [Step("a", sleeper("a")), Step("b", sleeper("b"))])
    kernel = make_kernel()
    async with SpellRun.open(kernel) as run:
        start = trio.current_time()
        result = await run.run_agent(flow, "x")
        assert trio.current_time() - start < 0.35
        assert result.data == {"a": "a:x", "b": "b:x"}
        one_at_a_time = Parallel(
            "fan1", [Step("a", sleeper("a")), Step("b", sleeper("b"))], max_concurrency=1
        )
        start = trio.current_time()
        await run.run_agent(one_at_a_time, "x")
        assert trio.current_time() - start >= 0.4


async def test_parallel_fail_fast_cancels_siblings_and_collect_all_keeps_going() -> None:
    from llmspell.workflows import Parallel

    finished: list[str] = []

    async def slow(value: Any, run: SpellRun) -> Any:
        await trio.sleep(1)
        finished.append("slow")
        return "slow done"

    async def bad(value: Any, run: SpellRun) -> Any:
        raise LlmspellError("tool_error", "branch broke")

    kernel = make_kernel()
    async with SpellRun.open(kernel) as run:
        with trio.fail_after(0.8), pytest.raises(LlmspellError, match="branch broke"):
            await run.run_agent(Parallel("ff", [Step("slow", slow), Step("bad", bad)]), 1)
        assert finished == []
        result = await run.run_agent(
            Parallel("all", [Step("slow", slow), Step("bad", bad)], fail_fast=False), 1
        )
    assert result.data["slow"] == "slow done"
    assert result.data["bad"]["error"]["code"] == "tool_error"


async def test_conditional_and_loop_workflows() -> None:
    from llmspell.workflows import Conditional, Loop

    async def double(value: Any, run: SpellRun) -> Any:
        return value * 2

    def label(text: str) -> Any:
        return lambda value, run: text

    router = Conditional(
        "router",
        [(lambda v, run: v > 10, Step("big", label("big"))),
         (lambda v, run: v > 5, Step("medium", label("medium")))],
        default=Step("small", label("small")),
    )
    grow = Loop("grow", Step("double", double), until=lambda v, run: v >= 100, max_iterations=20)
    capped = Loop("capped", Step("double", double), max_iterations=3)
    guarded = Loop("guarded", Step("double", double), while_=lambda v, run: v < 10)
    async with SpellRun.open(make_kernel()) as run:
        assert [(await run.run_agent(router, v)).data for v in (20, 7, 1)] == [
            "big", "medium", "small"
        ]
        assert (await run.run_agent(Conditional("none", []), "as is")).data == "as is"
        assert (await run.run_agent(grow, 3)).data == 192
        assert (await run.run_agent(capped, 1)).data == 8
        assert (await run.run_agent(guarded, 3)).data == 12


async def test_agent_stream_delivers_text_pieces() -> None:
    provider = ScriptedProvider([Reply(text="hello streaming world")])
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="s", model="scripted/m")
    pieces: list[str] = []
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "hi", on_text=pieces.append)
    assert pieces == ["hello ", "streaming ", "world"]
    assert result.text == "hello streaming world"
