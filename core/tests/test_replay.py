"""Replaying recorded runs (``llmspell.replay``): the same result and event sequence without a
provider call, streamed replies replayed as the same chunks, recorded failures and fallbacks,
divergence, running out of replies, workflow files, and runs that cannot be replayed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.messages import ToolCall, Usage
from llmspell.replay import replay_run
from llmspell.runlog import EventRecord, RunLog, default_runs_path
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool


def normalized(events: list[EventRecord], run_id: str) -> list[tuple[str, Any, Any]]:
    """Topics, parents and data, without timing fields and with run ids masked."""
    out = []
    for e in events:
        data = json.loads(json.dumps(e.data).replace(run_id, "<run>"))
        if isinstance(data, dict):
            data.pop("seconds", None)
        out.append((e.topic, e.parent, data))
    return out


def counting_tool(counter: list[int]) -> Tool:
    async def count(args: dict[str, Any], ctx: Any) -> Any:
        counter.append(1)
        return {"count": len(counter), "text": str(args.get("text", "")).upper()}

    return Tool(name="count", description="Count calls and shout.", run=count,
                parameters={"type": "object", "properties": {"text": {"type": "string"}}})


def shout_tool() -> Tool:
    async def count(args: dict[str, Any], ctx: Any) -> Any:
        return {"text": str(args.get("text", "")).upper()}

    return Tool(name="count", description="Shout.", run=count,
                parameters={"type": "object", "properties": {"text": {"type": "string"}}})


def kernel_for(provider: ScriptedProvider, *tools: Tool) -> Kernel:
    kernel = make_kernel(provider=provider, entry_points=True)
    for tool in tools:
        kernel.tools.register(tool, replace=True)
    return kernel


async def record(log: RunLog, kernel: Kernel, source: str, engine: str = "lua",
                 name: str = "spell.lua", args: Any = None) -> SpellRun:
    runner = kernel.engines.get(engine)
    async with log.record(source=source, engine=engine):
        async with SpellRun.open(kernel, name=name, args=args or {"topic": "x"}) as run:
            run.result = await runner.run(source, name, run)
    return run


AGENT_SPELL = """
local agent = Agent.create{name = "helper", model = "scripted/x", tools = {"count"}}
local result = agent:run("Shout " .. args.topic)
State.set("last", result.text)
return {text = result.text, tools = #result.tool_calls, cost = result.usage.cost}
"""


def agent_replies() -> list[Reply]:
    return [
        Reply(tool_calls=[ToolCall("call_1", "count", {"text": "hi"})], usage=Usage(9, 3, 0.01)),
        Reply(text="Shouted HI.", usage=Usage(15, 4, 0.02)),
    ]


async def test_a_replay_reproduces_the_result_and_the_events_without_the_provider(
    tmp_path: Path,
) -> None:
    provider = ScriptedProvider(agent_replies())
    kernel = kernel_for(provider, shout_tool())
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, AGENT_SPELL)
        assert len(provider.requests) == 2 and provider.remaining == 0
        outcome = await replay_run(kernel, log, original.run_id[:8])
        assert len(provider.requests) == 2  # not one more call reached the provider
        assert outcome.result == original.result == {"text": "Shouted HI.", "tools": 1,
                                                      "cost": pytest.approx(0.03)}
        assert outcome.same_result and (outcome.calls, outcome.diverged, outcome.unused) == (
            2, 0, 0)
        assert outcome.replay_of == original.run_id and outcome.run_id != original.run_id
        assert outcome.run_id is not None
        before = normalized(await log.events(original.run_id), original.run_id)
        after = normalized(await log.events(outcome.run_id), outcome.run_id)
        info = await log.get_run(outcome.run_id)
        first = await log.get_run(original.run_id)
    assert after == before
    assert "tool.started" in [t for t, _, _ in after]
    assert info.replay_of == original.run_id and info.status == "ok"
    assert (info.input_tokens, info.output_tokens, info.cost) == (
        first.input_tokens, first.output_tokens, first.cost)
    assert info.source == AGENT_SPELL and info.args == {"topic": "x"}


STREAM_SPELL = """
local agent = Agent.create{name = "poet", model = "scripted/x", tools = {"count"}}
local pieces = {}
local result = agent:stream("A poem", function(piece) pieces[#pieces + 1] = piece end)
return {pieces = pieces, text = result.text}
"""


async def test_a_streamed_run_replays_as_the_same_chunks(tmp_path: Path) -> None:
    provider = ScriptedProvider([
        Reply(tool_calls=[ToolCall("c1", "count", {"text": "x"})]),
        Reply(text="Roses are red", chunks=["Ro", "ses are", " red"]),
    ])
    kernel = kernel_for(provider, shout_tool())
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, STREAM_SPELL)
        replies = await log.replies(original.run_id)
        outcome = await replay_run(kernel, log, original.run_id)
        assert outcome.run_id is not None
        after = normalized(await log.events(outcome.run_id), outcome.run_id)
        before = normalized(await log.events(original.run_id), original.run_id)
    assert [r.stream for r in replies] == [True, True]
    assert replies[1].response["chunks"] == ["Ro", "ses are", " red", ""]  # "": the usage
    assert original.result == {"pieces": ["Ro", "ses are", " red"], "text": "Roses are red"}
    assert outcome.result == original.result and len(provider.requests) == 2
    assert after == before


async def test_a_reply_recorded_whole_is_streamed_in_pieces_on_replay(tmp_path: Path) -> None:
    provider = ScriptedProvider([Reply(text="one two three")])
    kernel = kernel_for(provider)
    whole = 'return Agent.create{name = "w", model = "scripted/x"}:run("hi").text'
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, whole)
        # the recorded source becomes a spell streaming the same question
        streaming = STREAM_SPELL.replace(', tools = {"count"}', "").replace("A poem", "hi")
        with sqlite3.connect(log.path) as conn:
            conn.execute("UPDATE runs SET source = ? WHERE run_id = ?",
                         (streaming.replace('"poet"', '"w"'), original.run_id))
        outcome = await replay_run(kernel, log, original.run_id)
    assert outcome.result == {"pieces": ["one ", "two ", "three"], "text": "one two three"}
    assert outcome.diverged == 0


async def test_recorded_provider_failures_replay_with_the_same_fallback(tmp_path: Path) -> None:
    down = ScriptedProvider([Reply(error=LlmspellError("provider_error", "overloaded"))],
                            name="down")
    provider = ScriptedProvider([Reply(text="from the backup")])
    kernel = kernel_for(provider)
    kernel.providers.add("down", down, replace=True)
    spell = ('return Agent.create{name = "a", model = {"down/big", "scripted/x"}}'
             ':run("hi").text')
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, spell)
        outcome = await replay_run(kernel, log, original.run_id)
        assert outcome.run_id is not None
        before = normalized(await log.events(original.run_id), original.run_id)
        after = normalized(await log.events(outcome.run_id), outcome.run_id)
        replies = await log.replies(original.run_id)
    assert original.result == outcome.result == "from the backup"
    assert [r.model for r in replies] == ["down/big", "scripted/x"]
    assert replies[0].error is not None and "overloaded" in replies[0].error.message
    assert "llm.fallback" in [t for t, _, _ in after]
    assert after == before
    assert len(down.requests) == 1 and len(provider.requests) == 1


async def test_a_request_that_changed_diverges_and_takes_the_next_reply(tmp_path: Path) -> None:
    counter: list[int] = []
    provider = ScriptedProvider(agent_replies())
    kernel = kernel_for(provider, counting_tool(counter))
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, AGENT_SPELL)
        # the tool answers differently now ({"count": 2}): the second request differs
        outcome = await replay_run(kernel, log, original.run_id)
        assert outcome.run_id is not None
        events = await log.events(outcome.run_id)
    assert len(counter) == 2  # the tool ran live in the replay
    assert outcome.result == original.result and outcome.diverged == 1
    [diverged] = [e for e in events if e.topic == "replay.diverged"]
    assert diverged.data["model"] == "scripted/x"
    assert (diverged.data["call"], diverged.data["reply"]) == (2, 1)
    assert diverged.data["expected"] != diverged.data["got"]
    # it happened inside the second model call
    requests = [e for e in events if e.topic == "llm.request"]
    assert diverged.parent == requests[1].seq


async def test_running_out_of_replies_fails_with_replay_exhausted(tmp_path: Path) -> None:
    provider = ScriptedProvider([Reply(text="only once")])
    kernel = kernel_for(provider)
    once = 'return Agent.create{name = "a", model = "scripted/x"}:run("hi").text'
    twice = ('local a = Agent.create{name = "a", model = "scripted/x"}\n'
             'return a:run("hi").text .. a:run("again").text')
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, once)
        with sqlite3.connect(log.path) as conn:
            conn.execute("UPDATE runs SET source = ? WHERE run_id = ?", (twice, original.run_id))
        with pytest.raises(LlmspellError) as caught:
            await replay_run(kernel, log, original.run_id)
        newest = (await log.list_runs(limit=1))[0]
    err = caught.value
    assert err.code == "replay_exhausted"
    assert "model call 2 to 'scripted/x'" in err.message and original.run_id in err.message
    assert err.details["call"] == 2 and err.details["recorded"] == 1
    assert newest.replay_of == original.run_id and newest.status == "failed"
    assert newest.error is not None and newest.error["code"] == "replay_exhausted"
    assert len(provider.requests) == 1


async def test_a_workflow_file_run_is_recorded_and_replayed(tmp_path: Path) -> None:
    from llmspell.workflow_files import run_workflow_file

    provider = ScriptedProvider([Reply(text="draft"), Reply(text="polished")])
    kernel = kernel_for(provider)
    flow = tmp_path / "flow.toml"
    flow.write_text(
        'kind = "sequential"\n'
        '[agents.writer]\nmodel = "scripted/x"\n'
        '[agents.editor]\nmodel = "scripted/x"\n'
        '[[steps]]\nname = "write"\nagent = "writer"\n'
        '[[steps]]\nname = "edit"\nagent = "editor"\n'
    )
    result = await run_workflow_file(kernel, flow, {"input": "go", "_": []}, SecurityPolicy(),
                                     tmp_path)
    assert result == "polished"
    async with RunLog.open(default_runs_path(tmp_path)) as log:
        [info] = await log.list_runs()
        assert (info.engine, info.name, info.status) == ("workflow", str(flow), "ok")
        assert info.source == flow.read_text() and info.result == "polished"
        flow.unlink()  # the replay runs the recorded text, not the file
        outcome = await replay_run(kernel, log, info.run_id)
        assert outcome.run_id is not None
        events = await log.events(outcome.run_id)
        before = normalized(await log.events(info.run_id), info.run_id)
    assert outcome.result == "polished" and outcome.same_result
    assert normalized(events, outcome.run_id) == before
    steps = [e for e in events if e.topic == "workflow.step.started"]
    workflow = next(e for e in events if e.topic == "workflow.started")
    assert [s.parent for s in steps] == [workflow.seq, workflow.seq]
    assert len(provider.requests) == 2


async def test_runs_that_cannot_be_replayed_say_why(tmp_path: Path) -> None:
    kernel = kernel_for(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db") as log:
        async with log.record():  # no source given
            async with SpellRun.open(kernel) as bare:
                pass
        with pytest.raises(LlmspellError) as caught:
            await replay_run(kernel, log, bare.run_id)
        assert caught.value.code == "invalid_value"
        assert "source was not recorded" in caught.value.message
        async with log.record(source="x", engine="cobol"):
            async with SpellRun.open(kernel) as odd:
                pass
        with pytest.raises(LlmspellError) as caught:
            await replay_run(kernel, log, odd.run_id)
        assert caught.value.code == "not_found" and "cobol" in caught.value.message
        with pytest.raises(LlmspellError) as caught:
            await replay_run(kernel, log, "nope")
        assert caught.value.code == "not_found"


async def test_a_replay_need_not_be_recorded(tmp_path: Path) -> None:
    provider = ScriptedProvider(agent_replies())
    kernel = kernel_for(provider, shout_tool())
    async with RunLog.open(tmp_path / "runs.db") as log:
        original = await record(log, kernel, AGENT_SPELL)
        outcome = await replay_run(kernel, log, original.run_id, record=False)
        assert outcome.run_id is None and outcome.same_result
        assert len(await log.list_runs()) == 1
