"""hooks-trace: one record per hook point, in order, first in every chain; to the
``llmspell.trace`` logger and/or a JSON-lines file; redacted, truncated summaries."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hook_support import ADD, AGENT, BOOM, HOOKS, answerer

import llmspell.config
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import HookPoint, Modify
from llmspell.runtime import SpellRun
from llmspell.testing import ScriptedProvider
from llmspell_hooks import trace

answer = answerer()

#: the points of an agent run with one tool call (event emissions left out)
AGENT_POINTS = [
    ("before_agent", "adder"),
    ("before_llm_call", "scripted/test"),
    ("after_llm_call", "scripted/test"),
    ("before_tool_call", "add"),
    ("after_tool_call", "add"),
    ("before_llm_call", "scripted/test"),
    ("after_llm_call", "scripted/test"),
    ("after_agent", "adder"),
]


def load(toml: str = "", enable: tuple[str, ...] = ("hooks-trace",)) -> Kernel:
    config = llmspell.config.parse(tomllib.loads(toml))
    kernel = Kernel.load(env={}, config=config, enable=list(enable),
                         disable=[h for h in HOOKS if h not in enable])
    kernel.providers.add("scripted", ScriptedProvider(default=answer), replace=True)
    kernel.tools.register(ADD, replace=True)
    kernel.tools.register(BOOM, replace=True)
    return kernel


def traced(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.llmspell for r in caplog.records if r.name == "llmspell.trace"]


def points(records: list[dict[str, Any]], events: bool = False) -> list[tuple[str, str]]:
    return [(r["point"], r["name"]) for r in records if events or r["kind"] != "event_emit"]


@pytest.fixture(autouse=True)
def capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="llmspell.trace")


def test_off_by_default() -> None:
    assert trace.llmspell_default_enabled is False
    assert "hooks-trace" not in Kernel.load(env={}, config=llmspell.config.Config()).plugins
    assert "hooks-trace" in load().plugins


async def test_an_agent_run_with_a_tool_call_is_traced_in_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kernel = load()
    async with SpellRun.open(kernel, name="traced") as run:
        assert (await run.run_agent(AGENT, "use add")).text == "done: 5"
    records = traced(caplog)
    assert points(records) == [("spell_start", "traced"), *AGENT_POINTS, ("spell_end", "traced")]
    events = [r["name"] for r in records if r["point"] == "before_event_emit"]
    assert events == ["spell.started", "agent.started", "llm.request", "llm.response",
                      "tool.started", "tool.finished", "llm.request", "llm.response",
                      "agent.finished", "spell.finished"]
    # every event emission is traced before and after, in pairs
    kinds = [r["point"] for r in records if r["kind"] == "event_emit"]
    assert kinds == ["before_event_emit", "after_event_emit"] * len(events)
    # the events sit where the kernel emits them
    assert points(records, events=True)[:5] == [
        ("spell_start", "traced"), ("before_event_emit", "spell.started"),
        ("after_event_emit", "spell.started"), ("before_event_emit", "agent.started"),
        ("after_event_emit", "agent.started")]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert trace.count(kernel) == len(records)
    for r in records:
        assert r["run_id"] == run.run_id and r["attempt"] == 0 and r["skipped"] is False
    by_point = {(r["point"], r["name"]): r for r in records}
    assert by_point[("before_tool_call", "add")]["input"] == '{"a":2,"b":3}'
    assert by_point[("before_tool_call", "add")]["elapsed_ms"] == 0.0
    assert by_point[("after_tool_call", "add")]["output"] == "5"
    assert by_point[("after_tool_call", "add")]["elapsed_ms"] >= 0
    assert by_point[("after_agent", "adder")]["elapsed_ms"] >= (
        by_point[("after_tool_call", "add")]["elapsed_ms"])
    assert by_point[("after_agent", "adder")]["output"].startswith('{"text":"done: 5"')
    assert len(by_point[("after_agent", "adder")]["output"]) == 200  # max_chars


async def test_the_trace_runs_first(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load()
    async with SpellRun.open(kernel) as run:
        run.hooks.register("before_tool_call", lambda ctx: Modify({"a": 10, "b": 20}),
                           priority=100)
        run.hooks.register("after_tool_call", lambda ctx: Modify(ctx.output * 2), priority=100)
        assert await run.call_tool("add", {"a": 1, "b": 2}) == 60
        chain = run.hooks.chain(HookPoint.BEFORE_TOOL_CALL)
    assert chain[0].name == "hooks-trace.llmspell_before_tool_call"
    by_point = {r["point"]: r for r in traced(caplog) if r["kind"] == "tool_call"}
    assert by_point["before_tool_call"]["input"] == '{"a":1,"b":2}'  # before the change
    assert by_point["after_tool_call"]["output"] == "30"  # as the tool gave it


async def test_errors_and_retries_are_traced(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load()
    attempts = {"n": 0}

    def retry_once(ctx: Any) -> Any:
        if ctx.name == "boom" and attempts["n"] == 0:
            attempts["n"] += 1
            return {"action": "retry", "reason": "once more"}
        return None

    with pytest.raises(LlmspellError):
        async with SpellRun.open(kernel, name="bad") as run:
            run.hooks.register("on_error", retry_once)
            await run.call_tool("boom", {})
    records = [r for r in traced(caplog) if r["kind"] in ("tool_call", "spell")]
    assert [(r["point"], r["attempt"]) for r in records] == [
        ("spell_start", 0), ("before_tool_call", 0), ("on_error", 0), ("on_error", 1),
        ("spell_end", 0)]
    on_error = records[2]
    assert on_error["error_code"] == "tool_error" and "kaput" in on_error["error"]
    assert on_error["input"] == "{}" and on_error["elapsed_ms"] >= 0
    assert records[-1]["error_code"] == "tool_error"


async def test_spells_in_both_engines_are_traced(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    kernel = load(f"[plugins.hooks-trace]\nfile = {json.dumps(str(path))}\nlog = false\n")
    lua = """
local agent = Agent.create{name = "adder", model = "scripted/test", tools = {"add"}}
agent:run("use add")
State.set("n", Tool.call("add", {a = 1, b = 2}))
"""
    js = """
const agent = await Agent.create({name: "adder", model: "scripted/test", tools: ["add"]});
await agent.run("use add");
await State.set("n", await Tool.call("add", {a: 1, b: 2}));
"""
    for engine, source in (("lua", lua), ("js", js)):
        async with SpellRun.open(kernel, name=f"x.{engine}") as run:
            await kernel.engines.get(engine).run(source, f"x.{engine}", run)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == trace.count(kernel)
    for engine in ("lua", "js"):
        run_ids = {r["run_id"] for r in lines if r["name"] == f"x.{engine}"}
        assert len(run_ids) == 1
        mine = [r for r in lines if r["run_id"] in run_ids]
        assert points(mine) == [
            ("spell_start", f"x.{engine}"), *AGENT_POINTS,
            ("before_tool_call", "add"), ("after_tool_call", "add"),
            ("before_state_write", "global/n"), ("after_state_write", "global/n"),
            ("spell_end", f"x.{engine}"),
        ]
        assert all(isinstance(r["ts"], float) for r in mine)


async def test_summaries_are_redacted_and_truncated(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", "tok-987654321")
    kernel = load("[plugins.hooks-trace]\nmax_chars = 40\n")
    secret = "sk-ant-api03-" + "x" * 30
    async with SpellRun.open(kernel, args={"api_key": "hunter22", "n": 1}) as run:
        await run.run_agent(AGENT, f"use add {secret} tok-987654321 " + "y" * 100)
    text = json.dumps(traced(caplog))
    assert secret not in text and "tok-987654321" not in text and "hunter22" not in text
    start = traced(caplog)[0]
    assert start["input"] == '{"api_key":"[REDACTED]","n":1}'
    (agent,) = [r for r in traced(caplog) if r["point"] == "before_agent"]
    assert agent["input"] == "use add [REDACTED] [REDACTED] " + "y" * 9 + "…"
    assert all(len(r.get(k, "")) <= 40 for r in traced(caplog) for k in ("input", "output"))


async def test_log_false_and_no_file_only_counts(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load("[plugins.hooks-trace]\nlog = false\n")
    async with SpellRun.open(kernel) as run:
        await run.call_tool("add", {"a": 1, "b": 2})
    assert traced(caplog) == []
    # spell start and end, the tool's before and after, four events before and after
    assert trace.count(kernel) == 12


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ('fille = "x"', "fille", "did you mean 'file'"),
    ('log = "yes"', "log", "must be bool"),
    ("max_chars = -3", "max_chars", "must be greater than 0"),
    ('file = "/no/such/dir/t.jsonl"', "file", "directory that does not exist"),
])
def test_bad_settings_name_the_key(toml: str, key: str, problem: str) -> None:
    with pytest.raises(LlmspellError) as info:
        load(f"[plugins.hooks-trace]\n{toml}\n")
    assert info.value.code == "config_error"
    assert f"plugins.hooks-trace.{key}" in info.value.message
    assert problem in info.value.message


def test_enabled_in_the_config_file() -> None:
    config = llmspell.config.parse(tomllib.loads("[plugins.hooks-trace]\nenabled = true\n"))
    assert "hooks-trace" in Kernel.load(env={}, config=config).plugins
