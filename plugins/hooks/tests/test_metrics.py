"""hooks-metrics: counts, errors, latency histograms, tokens and cost per kernel, from Python and
from spells in both engines; the JSON snapshot, the Prometheus exposition (checked with
prometheus_client's parser when it is installed, else with the strict parser below) and the
files written at every spell end."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pytest
from hook_support import ADD, AGENT, BOOM, HOOKS, answerer

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import Cancel, Retry, Skip
from llmspell.messages import Message, Usage
from llmspell.providers import ChatResponse
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider
from llmspell.tools import Tool
from llmspell.workflows import Sequential, Step
from llmspell_hooks import metrics

answer = answerer(Usage(10, 2, 0.5), Usage(7, 3, 0.25))


def load(toml: str = "", provider: ScriptedProvider | None = None) -> Kernel:
    config = llmspell.config.parse(tomllib.loads(toml))
    kernel = Kernel.load(env={}, config=config, enable=["hooks-metrics"],
                         disable=[h for h in HOOKS if h != "hooks-metrics"])
    provider = provider or ScriptedProvider(default=answer)
    kernel.providers.add(provider.name, provider, replace=True)
    kernel.tools.register(ADD, replace=True)
    kernel.tools.register(BOOM, replace=True)
    return kernel


def op(snapshot: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    return snapshot["operations"][kind][name]


@attrs.define
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@attrs.define
class Family:
    name: str
    type: str
    samples: list[Sample] = attrs.field(factory=list)


_METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"({_METRIC})(?:\{{(.*)\}})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse_exposition(text: str) -> list[Family]:
    """The text exposition format 0.0.4, strictly: every sample under its family's ``# TYPE``
    (``_total`` of counters, ``_bucket``/``_sum``/``_count`` of histograms), every label value
    escaped, every value a number (prometheus_client's parser names families the same way)."""
    found: list[Family] = []
    current: tuple[str, Family] | None = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "histogram"), line
            base = name.removesuffix("_total") if kind == "counter" else name
            current = (name, Family(base, kind))
            found.append(current[1])
            continue
        match = _SAMPLE.fullmatch(line)
        assert match is not None and current is not None, line
        name, labels_text, value = match.groups()
        declared, family = current
        suffixes = ("_total",) if family.type == "counter" else ("_bucket", "_sum", "_count")
        assert name in {family.name + s for s in suffixes}, (declared, line)
        labels: dict[str, str] = {}
        pos = 0
        while labels_text and pos < len(labels_text):
            label = _LABEL.match(labels_text, pos)
            assert label is not None, line
            labels[label[1]] = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m[0]], label[2])
            pos = label.end()
        family.samples.append(Sample(name, labels, float(value)))
    return found


try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # not installed: the parser above
    text_string_to_metric_families = parse_exposition


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_the_strict_parser_rejects_bad_text() -> None:
    good = ('# HELP x_total X.\n# TYPE x_total counter\nx_total{a="q\\"\\\\\\n",b="c"} 2\n')
    (family,) = parse_exposition(good)
    assert (family.name, family.samples[0].labels) == ("x", {"a": 'q"\\\n', "b": "c"})
    for bad in ('# TYPE x_total counter\nx_total{a="unescaped"quote"} 1',
                "# TYPE x_total counter\ny_total 1",
                '# TYPE x_total counter\nx_total{a="1"} one',
                "x_total 1"):
        with pytest.raises((AssertionError, ValueError)):
            parse_exposition(bad)


def sample(fams: dict[str, Any], family: str, sample_name: str, /, **labels: str) -> float:
    found = [s.value for s in fams[family].samples
             if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (family, sample_name, labels, found)
    return float(found[0])


# --- counts and latencies ---------------------------------------------------------------------


def test_on_by_default() -> None:
    assert metrics.llmspell_default_enabled is True
    kernel = Kernel.load(env={}, config=llmspell.config.Config())
    assert "hooks-metrics" in kernel.plugins
    assert metrics.snapshot(kernel)["operations"] == {}


async def test_an_agent_turn_is_counted() -> None:
    kernel = load()
    async with SpellRun.open(kernel, name="turn") as run:
        result = await run.run_agent(AGENT, "what is 2 + 3? use add")
    assert result.text == "done: 5"
    snap = metrics.snapshot(kernel)
    assert set(snap["operations"]) == {"spell", "agent", "llm_call", "tool_call"}
    for kind, name, count in (("spell", "turn", 1), ("agent", "adder", 1),
                              ("llm_call", "scripted/test", 2), ("tool_call", "add", 1)):
        series = op(snap, kind, name)
        assert series["count"] == count and series["errors"] == 0
        latency = series["latency"]
        assert latency["count"] == count and latency["buckets"]["+Inf"] == count
        assert latency["sum"] > 0
        counts = list(latency["buckets"].values())
        assert counts == sorted(counts)  # cumulative
        assert list(latency["buckets"])[:3] == ["0.001", "0.0025", "0.005"]
    # the agent took longer than each of its model calls
    assert op(snap, "agent", "adder")["latency"]["sum"] > (
        op(snap, "llm_call", "scripted/test")["latency"]["sum"] / 2)
    assert snap["models"] == {"scripted/test": {
        "calls": 2, "input_tokens": 17, "output_tokens": 5, "tokens": 22, "cost": 0.75}}
    assert result.usage.total_tokens == 22


async def test_counts_accumulate_per_kernel() -> None:
    first, second = load(), load()
    for _ in range(3):
        async with SpellRun.open(first) as run:
            await run.call_tool("add", {"a": 1, "b": 1})
    async with SpellRun.open(second) as run:
        await run.call_tool("add", {"a": 1, "b": 1})
    assert op(metrics.snapshot(first), "tool_call", "add")["count"] == 3
    assert op(metrics.snapshot(first), "spell", "<python>")["count"] == 3
    assert op(metrics.snapshot(second), "tool_call", "add")["count"] == 1


async def test_workflow_steps_are_counted() -> None:
    kernel = load()
    flow = Sequential(name="flow", steps=[Step("one", AGENT), Step("two", AGENT)])
    async with SpellRun.open(kernel) as run:
        await run.run_agent(flow, "use add")
    snap = metrics.snapshot(kernel)
    assert op(snap, "workflow", "flow")["count"] == 1
    assert op(snap, "workflow_step", "flow/one")["count"] == 1
    assert op(snap, "workflow_step", "flow/two")["count"] == 1
    assert op(snap, "agent", "adder")["count"] == 2


async def test_spells_in_both_engines_are_counted() -> None:
    kernel = load()
    lua = """
local agent = Agent.create{name = "lua_agent", model = "scripted/test", tools = {"add"}}
agent:run("use add")
for i = 1, 3 do Tool.call("add", {a = i, b = 1}) end
local flow = Workflow.sequential{name = "lua_flow", steps = {{tool = "add", args = {a = 1, b = 2}}}}
flow:run("go")
pcall(Tool.call, "boom", {})
"""
    js = """
const agent = await Agent.create({name: "js_agent", model: "scripted/test", tools: ["add"]});
await agent.run("use add");
for (let i = 0; i < 3; i++) { await Tool.call("add", {a: i, b: 1}); }
const flow = await Workflow.sequential({name: "js_flow",
                                       steps: [{tool: "add", args: {a: 1, b: 2}}]});
await flow.run("go");
try { await Tool.call("boom", {}); } catch (e) {}
"""
    for engine, source in (("lua", lua), ("js", js)):
        async with SpellRun.open(kernel, name=f"spell.{engine}") as run:
            await kernel.engines.get(engine).run(source, f"spell.{engine}", run)
    snap = metrics.snapshot(kernel)
    for engine in ("lua", "js"):
        assert op(snap, "spell", f"spell.{engine}")["count"] == 1
        assert op(snap, "agent", f"{engine}_agent")["count"] == 1
        assert op(snap, "workflow", f"{engine}_flow")["count"] == 1
        assert op(snap, "workflow_step", f"{engine}_flow/add")["count"] == 1
    # per engine: 1 from the agent, 3 in the loop, 1 from the workflow's step
    assert op(snap, "tool_call", "add")["count"] == 10
    assert op(snap, "tool_call", "boom") | {"latency": None} == {
        "count": 2, "errors": 2, "error_codes": {"tool_error": 2}, "skipped": 0,
        "latency": None}
    assert op(snap, "llm_call", "scripted/test")["count"] == 4


# --- errors, cancellations, skips -------------------------------------------------------------


async def test_errors_are_counted_by_code() -> None:
    kernel = load()
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(AGENT, "use boom")  # the agent recovers
        assert result.text.startswith("done: ")
        with pytest.raises(LlmspellError):
            await run.call_tool("add", {"a": "x"})
        assert op(metrics.snapshot(kernel), "tool_call", "boom")["errors"] == 1  # mid-run
    with pytest.raises(LlmspellError):
        async with SpellRun.open(kernel, name="failing") as run:
            await run.call_tool("boom", {})
    snap = metrics.snapshot(kernel)
    assert op(snap, "tool_call", "boom")["count"] == 2
    assert op(snap, "tool_call", "boom")["error_codes"] == {"tool_error": 2}
    assert op(snap, "tool_call", "add")["error_codes"] == {"invalid_args": 1}
    assert op(snap, "agent", "adder")["errors"] == 0
    assert op(snap, "spell", "failing")["error_codes"] == {"tool_error": 1}
    assert op(snap, "spell", "<python>")["errors"] == 0
    assert op(snap, "tool_call", "boom")["latency"]["count"] == 2


async def test_a_provider_failure_is_counted() -> None:
    kernel = load(provider=ScriptedProvider([Reply(error=RuntimeError("down"))]))
    with pytest.raises(LlmspellError):
        async with SpellRun.open(kernel) as run:
            await run.run_agent(AGENT, "hi")
    snap = metrics.snapshot(kernel)
    assert op(snap, "llm_call", "scripted/test")["error_codes"] == {"provider_error": 1}
    assert op(snap, "agent", "adder")["error_codes"] == {"provider_error": 1}
    assert snap["models"] == {}


async def test_cancelled_and_skipped_operations() -> None:
    """A skipped operation counts (in skipped); one a hook cancels before it runs does not (no
    before hooks: it never started for the metrics), its hook_cancelled error counts where it
    fails something, here the spell."""
    kernel = load()
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel, name="cancels") as run:
            run.hooks.register(
                "before_tool_call", lambda ctx: Cancel("no") if ctx.input.get("a") == 0 else None)
            run.hooks.register(
                "before_tool_call", lambda ctx: Skip(42) if ctx.input.get("a") == 1 else None)
            with pytest.raises(LlmspellError):
                await run.call_tool("add", {"a": 0, "b": 0})
            assert await run.call_tool("add", {"a": 1, "b": 1}) == 42
            assert await run.call_tool("add", {"a": 2, "b": 2}) == 4
            await run.call_tool("add", {"a": 0, "b": 0})
    assert info.value.code == "hook_cancelled"
    snap = metrics.snapshot(kernel)
    series = op(snap, "tool_call", "add")
    assert series["count"] == 2 and series["skipped"] == 1
    assert series["error_codes"] == {}
    assert op(snap, "spell", "cancels")["error_codes"] == {"hook_cancelled": 1}


async def test_every_failed_attempt_counts() -> None:
    """The on_error hook runs before any other: a failure retried or recovered from still
    counts, each attempt with its own latency; a recovered operation is not counted twice."""
    calls: list[int] = []

    async def flaky(args: dict[str, Any], ctx: Any) -> Any:
        calls.append(1)
        if len(calls) % 3:  # fails twice, then succeeds
            raise RuntimeError("not yet")
        return "ok"

    kernel = load()
    async with SpellRun.open(kernel) as run:
        handle = run.hooks.register("on_error", lambda ctx: Retry("again"), priority=10)
        assert await run.call_tool(Tool(name="flaky", description="x", run=flaky), {}) == "ok"
        run.hooks.unregister(handle)
        run.hooks.register("on_error", lambda ctx: Skip("fallback"), priority=10)
        assert await run.call_tool("boom", {}) == "fallback"
    snap = metrics.snapshot(kernel)
    flaky_series = op(snap, "tool_call", "flaky")
    assert (flaky_series["count"], flaky_series["errors"]) == (3, 2)
    assert flaky_series["error_codes"] == {"tool_error": 2}
    assert flaky_series["latency"]["count"] == 3
    assert 0 < flaky_series["latency"]["sum"] < 60
    boom = op(snap, "tool_call", "boom")
    assert (boom["count"], boom["errors"], boom["latency"]["count"]) == (1, 1, 1)


async def test_state_writes_and_events_are_not_counted() -> None:
    kernel = load()
    async with SpellRun.open(kernel) as run:
        await run.state_set("k", 1)
        with pytest.raises(LlmspellError):
            await run.emit("", {})  # an invalid topic: a failed event emission
    assert set(metrics.snapshot(kernel)["operations"]) == {"spell"}


# --- tokens and cost --------------------------------------------------------------------------


async def test_tokens_and_cost_per_model() -> None:
    provider = ScriptedProvider([
        Reply(text="a", usage=Usage(100, 10, 0.002)),
        Reply(text="b", usage=Usage(50, 5, None)),
    ], name="other")
    kernel = load()
    kernel.providers.add(provider.name, provider, replace=True)
    unpriced = ScriptedProvider([Reply(text="c", usage=Usage(1, 1, None))], name="free")
    kernel.providers.add(unpriced.name, unpriced, replace=True)
    async with SpellRun.open(kernel) as run:
        for _ in range(2):
            await run.run_agent(LLMAgent(name="o", model="other/m1"), "hi")
        await run.run_agent(LLMAgent(name="f", model="free/m2"), "hi")
        cached = ChatResponse(Message("assistant", "cached"), Usage(1000, 1000, 9.0))
        run.hooks.register("before_llm_call", lambda ctx: Skip(cached))  # a cache hit
        assert (await run.run_agent(LLMAgent(name="o", model="other/m1"), "hi")).text == "cached"
    assert op(metrics.snapshot(kernel), "llm_call", "other/m1")["skipped"] == 1
    models = metrics.snapshot(kernel)["models"]
    assert models["other/m1"] == {"calls": 2, "input_tokens": 150, "output_tokens": 15,
                                  "tokens": 165, "cost": 0.002}
    assert models["free/m2"]["cost"] is None
    fams = families(metrics.render_prometheus(kernel))
    assert sample(fams, "llmspell_llm_tokens", "llmspell_llm_tokens_total",
                  model="other/m1", type="input") == 150
    assert sample(fams, "llmspell_llm_cost_usd", "llmspell_llm_cost_usd_total",
                  model="other/m1") == 0.002
    assert not [s for s in fams["llmspell_llm_cost_usd"].samples
                if s.labels["model"] == "free/m2"]


# --- Prometheus -------------------------------------------------------------------------------


async def test_prometheus_text_parses() -> None:
    kernel = load('[plugins.hooks-metrics]\nlabels = {service = "bot \\"one\\"\\\\x\\ny"}\n')
    async with SpellRun.open(kernel, name="prom") as run:
        await run.run_agent(AGENT, "use add")
        with pytest.raises(LlmspellError):
            await run.call_tool("boom", {})
    text = metrics.render_prometheus(kernel)
    fams = families(text)
    assert {name: f.type for name, f in fams.items()} == {
        "llmspell_operations": "counter",
        "llmspell_operation_errors": "counter",
        "llmspell_operations_skipped": "counter",
        "llmspell_operation_duration_seconds": "histogram",
        "llmspell_llm_tokens": "counter",
        "llmspell_llm_cost_usd": "counter",
    }
    service = 'bot "one"\\x\ny'
    for family in fams.values():
        for s in family.samples:
            assert s.labels["service"] == service, s
    total = "llmspell_operations_total"
    assert sample(fams, "llmspell_operations", total, kind="tool_call", name="add") == 1
    assert sample(fams, "llmspell_operations", total, kind="llm_call", name="scripted/test") == 2
    assert sample(fams, "llmspell_operation_errors", "llmspell_operation_errors_total",
                  kind="tool_call", name="boom", code="tool_error") == 1
    hist = "llmspell_operation_duration_seconds"
    buckets = [(s.labels["le"], s.value) for s in fams[hist].samples
               if s.name == hist + "_bucket" and s.labels["name"] == "scripted/test"]
    assert [le for le, _ in buckets] == [*(repr(b) for b in metrics.DEFAULT_BUCKETS), "+Inf"]
    assert buckets[-1][1] == 2
    assert sample(fams, hist, hist + "_count", name="scripted/test") == 2
    assert 0 < sample(fams, hist, hist + "_sum", name="scripted/test") < 60
    assert sample(fams, "llmspell_llm_tokens", "llmspell_llm_tokens_total",
                  model="scripted/test", type="output") == 5
    assert text.endswith("\n") and "\n\n" not in text


def test_prometheus_of_an_empty_kernel_parses() -> None:
    fams = families(metrics.render_prometheus(load()))
    assert all(not f.samples for f in fams.values()) and len(fams) == 6


def test_snapshot_of_a_kernel_without_the_hook() -> None:
    kernel = Kernel.load(env={}, config=llmspell.config.Config(), disable=HOOKS)
    with pytest.raises(LlmspellError) as info:
        metrics.snapshot(kernel)
    assert info.value.code == "not_found" and "hooks-metrics" in info.value.message


# --- settings and files -----------------------------------------------------------------------


async def test_custom_buckets() -> None:
    kernel = load("[plugins.hooks-metrics]\nbuckets = [0.5, 2, 1e9]\n")
    async with SpellRun.open(kernel) as run:
        await run.call_tool("add", {"a": 1, "b": 1})
    latency = op(metrics.snapshot(kernel), "tool_call", "add")["latency"]
    assert latency["buckets"] == {"0.5": 1, "2.0": 1, "1000000000.0": 1, "+Inf": 1}


async def test_files_are_written_at_every_spell_end(tmp_path: Path) -> None:
    prom, snap = tmp_path / "llmspell.prom", tmp_path / "metrics.json"
    kernel = load(f"[plugins.hooks-metrics]\nprometheus_file = {json.dumps(str(prom))}\n"
                  f"json_file = {json.dumps(str(snap))}\nlabels = {{host = \"h1\"}}\n")
    assert not prom.exists() and not snap.exists()
    for n in (1, 2):
        async with SpellRun.open(kernel, name="job") as run:
            await run.call_tool("add", {"a": 1, "b": 1})
            assert not prom.exists() or n == 2  # written when the spell ends
        fams = families(prom.read_text())
        assert sample(fams, "llmspell_operations", "llmspell_operations_total",
                      kind="spell", name="job", host="h1") == n
        data = json.loads(snap.read_text())
        assert op(data, "tool_call", "add")["count"] == n
        assert data["labels"] == {"host": "h1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llmspell.prom", "metrics.json"]
    assert prom.stat().st_mode & 0o644 == 0o644


async def test_a_file_that_cannot_be_written_does_not_fail_the_spell(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "gone" / "m.prom"
    target.parent.mkdir()
    kernel = load(f"[plugins.hooks-metrics]\nprometheus_file = {json.dumps(str(target))}\n")
    target.parent.rmdir()
    async with SpellRun.open(kernel) as run:
        run.result = "fine"
    assert run.result == "fine"
    assert "could not write" in caplog.text


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ("bukets = [1]", "bukets", "did you mean 'buckets'"),
    ("buckets = []", "buckets", "at least one bound"),
    ("buckets = [1, 0.5]", "buckets", "increasing order"),
    ("buckets = [-1]", "buckets", "finite numbers > 0"),
    ('buckets = ["x"]', "buckets", "list of numbers"),
    ("buckets = 1", "buckets", "must be list"),
    ('labels = {kind = "x"}', "labels", "may not set 'kind'"),
    ('labels = {"bad-name" = "x"}', "labels", "invalid label name"),
    ("labels = {n = 1}", "labels", "must be a string"),
    ('json_file = "/no/such/dir/m.json"', "json_file", "directory that does not exist"),
])
def test_bad_settings_name_the_key(toml: str, key: str, problem: str) -> None:
    with pytest.raises(LlmspellError) as info:
        load(f"[plugins.hooks-metrics]\n{toml}\n")
    assert info.value.code == "config_error"
    assert f"plugins.hooks-metrics.{key}" in info.value.message
    assert problem in info.value.message


def test_relative_files_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "llmspell.toml").write_text(
        '[plugins.hooks-metrics]\nprometheus_file = "out/m.prom"\n')
    (tmp_path / "out").mkdir()
    config = llmspell.config.parse_file(tmp_path / "llmspell.toml")
    kernel = Kernel.load(env={}, config=config, disable=["hooks-cost", "hooks-logging"])
    assert metrics._STATES.of(kernel).prometheus_file == tmp_path / "out" / "m.prom"
    assert math.isfinite(metrics.DEFAULT_BUCKETS[-1])
