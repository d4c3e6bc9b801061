"""The run log (``llmspell.runlog``): recording runs from Python and from Lua and JavaScript
spells into a real SQLite file, failed and cancelled runs, the parent operation of every event,
JSON safety, retention, run ids, sessions, the ``[runs]`` settings, and a log that cannot be
written (the run goes on)."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import trio

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.messages import ToolCall
from llmspell.runlog import (
    EventRecord,
    RunLog,
    default_runs_path,
    json_safe,
    recording,
    request_digest,
    to_json,
)
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool
from llmspell.workflows import Parallel, Sequential, Step


async def _add(args: dict[str, Any], ctx: Any) -> Any:
    return args["a"] + args["b"]


ADD = Tool(
    name="add", description="Add two integers.", run=_add,
    parameters={"type": "object", "properties": {"a": {"type": "integer"},
                                                 "b": {"type": "integer"}}},
)


def adder_provider() -> ScriptedProvider:
    return ScriptedProvider([
        Reply(tool_calls=[ToolCall("call_1", "add", {"a": 2, "b": 3})],
              usage=llmspell.messages.Usage(10, 2, 0.001)),
        Reply(text="The sum is 5.", usage=llmspell.messages.Usage(20, 5, 0.002)),
    ])


def kernel_with(provider: ScriptedProvider, *, entry_points: bool = False) -> Kernel:
    kernel = make_kernel(provider=provider, entry_points=entry_points)
    kernel.tools.register(ADD)
    return kernel


AGENT = LLMAgent(name="adder", model="scripted/x", tools=[ADD], instructions="Add.")


async def record_agent(log: RunLog, kernel: Kernel, **fields: Any) -> str:
    async with log.record(source="<python>", engine="python", **fields) as recorder:
        async with SpellRun.open(kernel, name="adder.py", args={"n": 1}) as run:
            result = await run.run_agent(AGENT, "What is 2 + 3?")
            run.result = {"text": result.text}
    assert recorder.error is None
    assert recorder.run_id == run.run_id
    return run.run_id


# --- recording from Python ----------------------------------------------------------------------


async def test_a_run_is_recorded_with_its_events_replies_and_totals(tmp_path: Path) -> None:
    path = default_runs_path(tmp_path)
    assert path == tmp_path / ".llmspell" / "runs.db"
    async with RunLog.open(path) as log:
        run_id = await record_agent(log, kernel_with(adder_provider()), session="s1")
        info = await log.get_run(run_id)
        events = await log.events(run_id)
        replies = await log.replies(run_id)
    assert (info.name, info.engine, info.session, info.source) == (
        "adder.py", "python", "s1", "<python>")
    assert info.args == {"n": 1}
    assert info.status == "ok" and info.error is None
    assert info.result == {"text": "The sum is 5."}
    assert (info.input_tokens, info.output_tokens, info.total_tokens) == (30, 7, 37)
    assert info.cost == pytest.approx(0.003)
    assert info.finished_at is not None and info.seconds is not None and info.seconds >= 0
    assert (info.events, info.replies) == (len(events), 2)
    assert [e.topic for e in events] == [
        "spell.started", "agent.started", "llm.request", "llm.response", "tool.started",
        "tool.finished", "llm.request", "llm.response", "agent.finished", "spell.finished",
    ]
    assert [e.seq for e in events] == list(range(1, 11))
    # the raw replies, with the digest of each request
    first, second = replies
    assert (first.index, first.model, first.stream) == (0, "scripted/x", False)
    assert first.response["message"]["tool_calls"] == [
        {"id": "call_1", "name": "add", "arguments": {"a": 2, "b": 3}}]
    assert first.response["finish_reason"] == "tool_calls"
    assert second.to_response().text == "The sum is 5."
    assert second.to_response().usage.cost == 0.002
    assert len(first.digest) == 64 and first.digest != second.digest
    # the file is a WAL-mode SQLite database
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM run_events").fetchone()[0] == 10


async def test_every_event_names_its_parent_operation(tmp_path: Path) -> None:
    async with RunLog.open(tmp_path / "runs.db") as log:
        run_id = await record_agent(log, kernel_with(adder_provider()))
        events = await log.events(run_id)
    by_topic: dict[str, list[EventRecord]] = {}
    for e in events:
        by_topic.setdefault(e.topic, []).append(e)
    agent = by_topic["agent.started"][0]
    request1, request2 = by_topic["llm.request"]
    tool = by_topic["tool.started"][0]
    # the spell's own events and the agent's opening event are at the top level
    assert by_topic["spell.started"][0].parent is None
    assert agent.parent is None and by_topic["spell.finished"][0].parent is None
    # inside the agent: its model calls, its tool call and its closing event
    assert request1.parent == request2.parent == tool.parent == agent.seq
    assert by_topic["agent.finished"][0].parent == agent.seq
    # a model call's reply, a tool call's end belong to them
    assert [r.parent for r in by_topic["llm.response"]] == [request1.seq, request2.seq]
    assert by_topic["tool.finished"][0].parent == tool.seq


async def test_workflow_steps_and_parallel_branches_nest(tmp_path: Path) -> None:
    provider = ScriptedProvider(default="fine")
    kernel = kernel_with(provider)
    writer = LLMAgent(name="writer", model="scripted/x")

    async def note(value: Any, run: SpellRun) -> Any:
        await run.emit("custom.note", {"value": value})
        return value

    fan = Parallel("fan", [Step("a", writer), Step("b", ADD)])
    flow = Sequential("flow", [Step("first", note), Step("second", fan)])
    async with RunLog.open(tmp_path / "runs.db") as log:
        async with log.record(source="", engine="python"):
            async with SpellRun.open(kernel) as run:
                await run.run_agent(flow, {"a": 1, "b": 2})
        events = await log.events(run.run_id)
    seq = {(e.topic, str(e.data.get("step") or e.data.get("workflow") or e.data.get("agent")
                             or e.data.get("tool") or "")): e for e in events}
    outer = seq[("workflow.started", "flow")]
    first = seq[("workflow.step.started", "first")]
    second = seq[("workflow.step.started", "second")]
    inner = seq[("workflow.started", "fan")]
    assert outer.parent is None
    assert first.parent == second.parent == outer.seq
    assert seq[("custom.note", "")].parent == first.seq  # an event a step function emitted
    assert inner.parent == second.seq
    a, b = seq[("workflow.step.started", "a")], seq[("workflow.step.started", "b")]
    assert a.parent == b.parent == inner.seq  # branches run in tasks of their own
    assert seq[("agent.started", "writer")].parent == a.seq
    assert seq[("tool.started", "add")].parent == b.seq
    assert seq[("workflow.step.finished", "a")].parent == a.seq


async def test_a_failed_run_is_recorded_with_its_error(tmp_path: Path) -> None:
    provider = ScriptedProvider([Reply(error=LlmspellError("provider_error", "model down"))])
    async with RunLog.open(tmp_path / "runs.db") as log:
        with pytest.raises(LlmspellError) as caught:
            await record_agent(log, kernel_with(provider))
        [info] = await log.list_runs()
        replies = await log.replies(info.run_id)
    assert caught.value.code == "provider_error"
    assert info.status == "failed" and info.result is None
    assert info.error is not None and info.error["code"] == "provider_error"
    assert "model down" in info.error["message"]
    # the failure of the provider call is recorded as its reply
    assert replies[0].error is not None and replies[0].error.code == "provider_error"


async def test_a_cancelled_run_and_a_block_failing_before_the_run_opens(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db") as log:
        with trio.move_on_after(0.05):
            async with log.record(source="sleep", engine="python"):
                async with SpellRun.open(kernel, name="sleepy"):
                    await trio.sleep(10)
        with pytest.raises(LlmspellError):
            async with log.record(source="kind = 'nope'", engine="workflow", name="bad.toml",
                                  args={"_": []}):
                raise LlmspellError("config_error", "bad.toml: kind is wrong")
        async with log.record(source="", engine="python"):
            pass  # no run opened, nothing failed: nothing recorded
        bad, sleepy = await log.list_runs()
    assert sleepy.name == "sleepy" and sleepy.status == "cancelled"
    assert sleepy.error is not None and sleepy.error["code"] == "cancelled"
    assert bad.name == "bad.toml" and bad.status == "failed" and bad.engine == "workflow"
    assert bad.error is not None and bad.error["code"] == "config_error"
    assert bad.source == "kind = 'nope'" and len(bad.run_id) == 12


# --- the engines --------------------------------------------------------------------------------

SPELLS = {
    "lua": """
local agent = Agent.create{name = "adder", model = "scripted/x", tools = {"add"}}
local result = agent:run("What is 2 + 3?")
Event.emit("spell.note", {text = result.text})
return {text = result.text, tokens = result.usage.input_tokens}
""",
    "js": """
const agent = await Agent.create({name: "adder", model: "scripted/x", tools: ["add"]});
const result = await agent.run("What is 2 + 3?");
await Event.emit("spell.note", {text: result.text});
export default {text: result.text, tokens: result.usage.input_tokens};
""",
}


@pytest.mark.parametrize("engine_name", ["lua", "js"])
async def test_spells_of_both_engines_are_recorded(tmp_path: Path, engine_name: str) -> None:
    kernel = kernel_with(adder_provider(), entry_points=True)
    engine = kernel.engines.get(engine_name)
    source = SPELLS[engine_name]
    async with RunLog.open(tmp_path / "runs.db") as log:
        async with log.record(source=source, engine=engine_name):
            async with SpellRun.open(kernel, name=f"adder.{engine_name}") as run:
                run.result = await engine.run(source, f"adder.{engine_name}", run)
        info = await log.get_run(run.run_id)
        events = await log.events(run.run_id)
    assert info.result == {"text": "The sum is 5.", "tokens": 30}
    assert (info.engine, info.source, info.status) == (engine_name, source, "ok")
    topics = [e.topic for e in events]
    assert topics[0] == "spell.started" and topics[-1] == "spell.finished"
    assert "tool.started" in topics and "spell.note" in topics
    note = next(e for e in events if e.topic == "spell.note")
    assert note.data == {"text": "The sum is 5."} and note.parent is None
    assert info.input_tokens == 30


# --- JSON safety --------------------------------------------------------------------------------


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class Broken:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_json_safe_turns_anything_into_json_data() -> None:
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["self"] = cyclic
    value = {
        "nan": math.nan, "inf": -math.inf, "bytes": b"abc", "set": {3, 1}, "tuple": (1, 2),
        "opaque": Opaque(), "broken": Broken(), 7: "int key", "cyclic": cyclic,
        "usage": llmspell.messages.Usage(1, 2, None),
    }
    safe = json_safe(value)
    assert safe["nan"] == "nan" and safe["inf"] == "-inf"
    assert safe["bytes"] == {"bytes": 3} and safe["set"] == [1, 3] and safe["tuple"] == [1, 2]
    assert safe["opaque"] == "<opaque>" and safe["broken"].startswith("<unrepresentable")
    assert safe["7"] == "int key" and safe["cyclic"]["self"] == "<cycle>"
    assert safe["usage"]["total_tokens"] == 3
    deep: Any = []
    for _ in range(200):
        deep = [deep]
    assert "<too deep>" in json.dumps(json_safe(deep))
    for _ in range(100_000):
        deep = [deep]
    assert "<too deep>" in to_json(deep)  # too deep for json.dumps itself
    assert to_json({"ok": [1, "x"]}) == '{"ok":[1,"x"]}'


async def test_event_data_and_results_that_are_not_json_do_not_fail_the_run(
    tmp_path: Path,
) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db") as log:
        async with log.record(source="", engine="python") as recorder:
            async with SpellRun.open(kernel) as run:
                await run.emit("odd.data", {"obj": Opaque(), "nan": math.nan, "raw": b"\x00"})
                run.result = {"when": Opaque(), "items": {1, 2}}
        assert recorder.error is None
        info = await log.get_run(run.run_id)
        odd = [e for e in await log.events(run.run_id) if e.topic == "odd.data"]
    assert info.status == "ok" and info.result == {"when": "<opaque>", "items": [1, 2]}
    assert odd[0].data == {"obj": "<opaque>", "nan": "nan", "raw": {"bytes": 1}}


async def test_many_events_are_written_in_batches(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db") as log:
        async with log.record(source="", engine="python"):
            async with SpellRun.open(kernel) as run:
                for i in range(1000):
                    await run.emit("tick.tock", {"i": i})
                # full batches reach the file while the run goes on, the run marked running
                with trio.fail_after(10):
                    while not await log.list_runs():
                        await trio.sleep(0.01)
                assert (await log.get_run(run.run_id)).status == "running"
        info = await log.get_run(run.run_id)
        events = await log.events(run.run_id)
    assert info.events == len(events) == 1002
    assert [e.data["i"] for e in events if e.topic == "tick.tock"] == list(range(1000))


# --- run ids, sessions, deleting, retention -----------------------------------------------------


async def make_runs(log: RunLog, kernel: Kernel, n: int, session: str | None = None) -> list[str]:
    ids = []
    for _ in range(n):
        async with log.record(source="", engine="python"):
            async with SpellRun.open(kernel, session=session) as run:
                pass
        ids.append(run.run_id)
    return ids


async def test_run_ids_may_be_unique_prefixes_and_bad_ones_are_named(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db") as log:
        [one] = await make_runs(log, kernel, 1)
        assert (await log.get_run(one[:6])).run_id == one
        with pytest.raises(LlmspellError) as caught:
            await log.get_run("zzzz")
        assert caught.value.code == "not_found" and "'zzzz'" in caught.value.message
        assert caught.value.hint is not None and "runs list" in caught.value.hint
        with pytest.raises(LlmspellError) as caught:
            await log.events("")
        assert caught.value.code == "invalid_value"
        # an ambiguous prefix: two runs with ids sharing it
        async with log.record(source="", engine="python"):
            async with SpellRun.open(kernel) as run:
                pass
        with sqlite3.connect(log.path) as conn:
            conn.execute("UPDATE runs SET run_id = 'abc111111111' WHERE run_id = ?", (one,))
            conn.execute("UPDATE runs SET run_id = 'abc222222222' WHERE run_id = ?",
                         (run.run_id,))
        with pytest.raises(LlmspellError) as caught:
            await log.get_run("abc")
        assert caught.value.code == "invalid_args"
        assert caught.value.details["matches"] == ["abc111111111", "abc222222222"]
        with pytest.raises(LlmspellError) as caught:
            await log.delete_runs(["abc1", "nope"])
        assert caught.value.code == "not_found"
        assert len(await log.list_runs()) == 2  # nothing deleted
        assert await log.delete_runs(["abc1", "abc111111111"]) == ["abc111111111"]
        assert [r.run_id for r in await log.list_runs()] == ["abc222222222"]


async def test_list_runs_by_session_newest_first(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db") as log:
        a = await make_runs(log, kernel, 2, session="alpha")
        b = await make_runs(log, kernel, 1, session="beta")
        assert [r.run_id for r in await log.list_runs(session="alpha")] == a[::-1]
        assert [r.run_id for r in await log.list_runs()] == [*b, *a[::-1]]
        assert [r.run_id for r in await log.list_runs(limit=1)] == b
        assert await log.list_runs(session="gamma") == []
        for bad in ("no spaces", ""):
            with pytest.raises(LlmspellError) as caught:
                await log.list_runs(session=bad)
            assert caught.value.code == "invalid_value" and repr(bad) in caught.value.message
        with pytest.raises(LlmspellError):
            await log.list_runs(limit=0)


async def test_reading_a_missing_log_finds_nothing_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none" / "runs.db"
    async with RunLog.open(path) as log:
        assert await log.list_runs() == []
        with pytest.raises(LlmspellError) as caught:
            await log.get_run("abc")
        assert caught.value.code == "not_found"
    assert not path.exists() and not path.parent.exists()


async def test_retention_keeps_the_newest_runs(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with RunLog.open(tmp_path / "runs.db", keep=3) as log:
        ids = await make_runs(log, kernel, 5)
        kept = [r.run_id for r in await log.list_runs()]
    assert kept == ids[:1:-1]  # the newest three
    with sqlite3.connect(tmp_path / "runs.db") as conn:
        runs_of_events = {r[0] for r in conn.execute("SELECT run_id FROM run_events")}
    assert runs_of_events == set(kept)  # the events of pruned runs went with them


async def test_retention_spares_a_run_still_running_elsewhere(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    path = tmp_path / "runs.db"
    async with RunLog.open(path, keep=1) as log:
        [busy] = await make_runs(log, kernel, 1)
        with sqlite3.connect(path) as conn:  # as if another process were still recording it
            conn.execute("UPDATE runs SET status = 'running' WHERE run_id = ?", (busy,))
        [newest] = await make_runs(log, kernel, 1)
        assert {r.run_id for r in await log.list_runs()} == {busy, newest}
        with sqlite3.connect(path) as conn:  # a day later it counts as crashed
            conn.execute("UPDATE runs SET started_at = started_at - 2 * 86400 "
                         "WHERE run_id = ?", (busy,))
        assert await log.prune(keep=1) == [busy]


async def test_retention_drops_runs_older_than_max_age(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    path = tmp_path / "runs.db"
    async with RunLog.open(path, keep=None) as log:
        old, recent = await make_runs(log, kernel, 2)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE runs SET started_at = started_at - 10 * 86400 WHERE run_id = ?",
                         (old,))
        assert await log.prune(max_age_days=30) == []
    async with RunLog.open(path, keep=None, max_age_days=7) as log:
        [newest] = await make_runs(log, kernel, 1)  # pruning happens at the end of a run
        assert {r.run_id for r in await log.list_runs()} == {recent, newest}
        assert await log.prune(keep=1) == [recent]


# --- settings and failures ----------------------------------------------------------------------


def test_runs_settings_in_the_config_file(tmp_path: Path) -> None:
    config = llmspell.config.parse({"runs": {"keep": 5, "max_age_days": 1.5, "record": False}})
    settings = config.run_settings
    assert (settings.keep, settings.max_age_days, settings.record) == (5, 1.5, False)
    defaults = llmspell.config.Config().run_settings
    assert (defaults.keep, defaults.max_age_days, defaults.record) == (200, None, True)
    merged = llmspell.config.parse({"runs": {"keep": 5}}).merged(
        llmspell.config.parse({"runs": {"max_age_days": 2}}))
    assert (merged.run_settings.keep, merged.run_settings.max_age_days) == (5, 2.0)
    for table, key in [({"keep": 0}, "runs.keep"), ({"keep": "ten"}, "runs.keep"),
                       ({"max_age_days": -1}, "runs.max_age_days"),
                       ({"record": "yes"}, "runs.record"), ({"kep": 3}, "runs.kep")]:
        with pytest.raises(LlmspellError) as caught:
            llmspell.config.parse({"runs": table}, tmp_path / "llmspell.toml")
        assert caught.value.code == "config_error"
        assert caught.value.details["key"] == key
        assert "llmspell.toml" in caught.value.message
    with pytest.raises(LlmspellError) as caught:
        llmspell.config.parse({"runs": {"kep": 3}})
    assert "did you mean 'keep'" in caught.value.message
    with pytest.raises(LlmspellError) as caught:
        llmspell.config.parse({"runs": 3})
    assert caught.value.details["key"] == "llmspell.runs"


async def test_recording_follows_the_config_and_the_project(tmp_path: Path) -> None:
    kernel = kernel_with(ScriptedProvider())
    async with recording(kernel, tmp_path, source="", engine="python") as recorder:
        async with SpellRun.open(kernel):
            pass
    assert recorder is not None and recorder.run_id is not None
    assert default_runs_path(tmp_path).exists()
    async with recording(kernel, None, source="") as nothing:
        assert nothing is None
    off = Kernel(config=llmspell.config.parse({"runs": {"record": False}}))
    async with recording(off, tmp_path / "other", source="") as nothing:
        assert nothing is None
    assert not (tmp_path / "other").exists()


async def test_a_log_that_cannot_be_written_does_not_fail_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    kernel = kernel_with(adder_provider())
    async with RunLog.open(blocker / "runs.db") as log:
        async with log.record(source="", engine="python") as recorder:
            async with SpellRun.open(kernel) as run:
                result = await run.run_agent(AGENT, "What is 2 + 3?")
    assert result.text == "The sum is 5."
    assert recorder.error is not None and recorder.error.code == "state_error"
    assert str(blocker) in recorder.error.message
    assert "is not recorded" in caplog.text


def test_the_request_digest_covers_the_request_but_not_the_providers_model_name() -> None:
    from llmspell.messages import Message
    from llmspell.providers import ChatRequest

    base = ChatRequest(model="a", messages=[Message("user", "hi")])
    same = ChatRequest(model="b", messages=[Message("user", "hi")])
    assert request_digest("p/m", base) == request_digest("p/m", same)
    assert request_digest("p/m", base) != request_digest("p/other", base)
    hotter = ChatRequest(model="a", messages=[Message("user", "hi")], temperature=0.5)
    assert request_digest("p/m", base) != request_digest("p/m", hotter)
