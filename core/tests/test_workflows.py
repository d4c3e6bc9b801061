"""Workflows: the four kinds and their nesting, step options (input, timeout, retry, on_error),
declarative conditions, workflows as tools, the script API on the real engines, and workflow
files run by ``llmspell run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio
from click.testing import CliRunner

from llmspell.agents import LLMAgent, agent_tool
from llmspell.cli import cli
from llmspell.cli.app import CliState
from llmspell.conditions import parse_condition
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import HookContext, hookimpl
from llmspell.runtime import SpellRun
from llmspell.specpath import Where
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.workflow_files import load_workflow, run_workflow_file
from llmspell.workflows import Conditional, Loop, Parallel, RetryPolicy, Sequential, Step


def cond(data: dict[str, Any]) -> Any:
    return parse_condition(data, Where("test"))


def fn(result: Any) -> Any:
    """A step function returning ``result`` (called with the value when callable)."""

    async def step(value: Any, run: SpellRun) -> Any:
        return result(value) if callable(result) else result

    return step


def failing(
    code: str = "tool_error", times: int = 10**9, then: Any = "ok", after: float = 0.0
) -> Any:
    """A step function that fails ``times`` times with ``code`` (each after ``after``
    seconds), then returns ``then``."""
    calls = {"n": 0}

    async def step(value: Any, run: SpellRun) -> Any:
        await trio.sleep(after)
        calls["n"] += 1
        if calls["n"] <= times:
            raise LlmspellError(code, f"failure {calls['n']}")
        return then

    step.calls = calls  # type: ignore[attr-defined]
    return step


def sleeper(seconds: float, log: list[str], label: str) -> Any:
    async def step(value: Any, run: SpellRun) -> Any:
        log.append(f"start {label}")
        try:
            await trio.sleep(seconds)
        except trio.Cancelled:
            log.append(f"cancelled {label}")
            raise
        log.append(f"end {label}")
        return f"{label}:{value}"

    return step


async def collect(run: SpellRun, pattern: str = "workflow.**") -> Any:
    return run.events.subscribe(pattern)


def drain(sub: Any) -> list[Any]:
    out = []
    while True:
        try:
            out.append(sub.receive_nowait())
        except (trio.WouldBlock, Exception):
            return out


# --- the kinds and nesting ----------------------------------------------------------------------


async def test_sequential_step_inputs_choose_what_each_step_receives() -> None:
    provider = ScriptedProvider(default=lambda req: "summary of " + req.messages[-1].content)
    kernel = make_kernel(provider=provider)
    flow = Sequential("pipe", [
        Step("fetch", fn(lambda v: f"text about {v}")),
        Step("summary", LLMAgent(name="summarizer", model="scripted/m")),
        Step("again", fn(lambda v: f"[{v}]"), input="original"),
        Step("pick", fn(lambda v: v), input={"step": "fetch"}),
        Step("join", fn(lambda v: v),
             input=lambda view, run: f"{view['outputs']['summary']} | {view['previous']}"),
    ])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(flow, "trio")
    assert result.data == "summary of text about trio | text about trio"
    assert result.agents == ["summarizer"]
    assert result.usage.input_tokens > 0
    with pytest.raises(LlmspellError, match="not an earlier step"):
        Sequential("bad", [Step("a", fn(1), input={"step": "b"}), Step("b", fn(2))])


async def test_nested_workflows_sequential_parallel_conditional_loop() -> None:
    grow = Loop("grow", Step("double", fn(lambda v: v * 2)), until=cond({"input": True, "gte": 50}))
    fan = Parallel("fan", [Step("grown", grow), Step("plus", fn(lambda v: v + 1))])
    route = Conditional("route", [(cond({"input": "grown", "gt": 60}), Step("big", fn("big")))],
                        default=Step("small", fn(lambda v: f"small {v['grown']}")))
    outer = Sequential("outer", [Step("fan", fan), Step("route", route)])
    async with SpellRun.open(make_kernel()) as run:
        sub = await collect(run, "workflow.started")
        assert (await run.run_agent(outer, 3)).data == "big"  # 3 -> 6 ... 96 > 60
        assert (await run.run_agent(outer, 7)).data == "small 56"  # 7 -> 14, 28, 56
        started = [e.data["workflow"] for e in drain(sub)]
    assert started[:4] == ["outer", "fan", "grow", "route"]


async def test_parallel_branches_run_concurrently_and_max_concurrency_limits() -> None:
    log: list[str] = []
    branches = [Step("a", sleeper(0.2, log, "a")), Step("b", sleeper(0.2, log, "b"))]
    async with SpellRun.open(make_kernel()) as run:
        start = trio.current_time()
        result = await run.run_agent(Parallel("fan", branches), "x")
        assert trio.current_time() - start < 0.35
        assert result.data == {"a": "a:x", "b": "b:x"}
        start = trio.current_time()
        await run.run_agent(Parallel("one", branches, max_concurrency=1), "x")
        assert trio.current_time() - start >= 0.4
    with pytest.raises(LlmspellError, match="max_concurrency"):
        Parallel("bad", branches, max_concurrency=0)


# --- error strategies ---------------------------------------------------------------------------


async def test_fail_fast_cancels_siblings_and_continue_records_errors() -> None:
    log: list[str] = []
    async with SpellRun.open(make_kernel()) as run:
        with trio.fail_after(1), pytest.raises(LlmspellError, match="failure 1"):
            await run.run_agent(
                Parallel("ff", [Step("slow", sleeper(5, log, "slow")),
                                Step("bad", failing(after=0.05))]),
                "x",
            )
        assert log == ["start slow", "cancelled slow"]
        result = await run.run_agent(
            Parallel("all", [Step("slow", sleeper(0.05, log, "s2")), Step("bad", failing())],
                     on_error="continue"), "x",
        )
        assert result.data["slow"] == "s2:x"
        assert result.data["bad"]["error"]["code"] == "tool_error"
        # sequential: a continuing step's error record is the next step's input
        seq = Sequential("seq", [
            Step("bad", failing("not_found"), on_error="continue"),
            Step("look", fn(lambda v: f"saw {v['error']['code']}")),
        ])
        assert (await run.run_agent(seq, "x")).data == "saw not_found"
        # the workflow's strategy is the default; a step's own overrides it
        lenient = Sequential("lenient", [Step("bad", failing()), Step("next", fn("went on"))],
                             on_error="continue")
        assert (await run.run_agent(lenient, "x")).data == "went on"
        strict = Sequential("strict", [Step("bad", failing(), on_error="fail")],
                            on_error="continue")
        with pytest.raises(LlmspellError):
            await run.run_agent(strict, "x")


async def test_loop_on_error_break_continue_or_fail() -> None:
    async def body(value: Any, run: SpellRun) -> Any:
        if isinstance(value, dict):
            return "recovered"
        if value >= 4:
            raise LlmspellError("tool_error", "too big")
        return value * 2

    async with SpellRun.open(make_kernel()) as run:
        broken = Loop("b", Step("body", body), on_error="break", max_iterations=5)
        assert (await run.run_agent(broken, 1)).data == 4
        go_on = Loop("c", Step("body", body), on_error="continue",
                     until=cond({"input": True, "equals": "recovered"}))
        assert (await run.run_agent(go_on, 1)).data == "recovered"
        with pytest.raises(LlmspellError, match="too big"):
            await run.run_agent(Loop("f", Step("body", body)), 1)
        guarded = Loop("w", Step("body", fn(lambda v: v + 1)), while_=lambda v, run: v < 3)
        assert (await run.run_agent(guarded, 0)).data == 3
    with pytest.raises(LlmspellError, match="on_error"):
        Sequential("x", [], on_error="break")


# --- timeout and retry --------------------------------------------------------------------------


async def test_per_step_timeout_cancels_the_attempt_with_code_timeout() -> None:
    log: list[str] = []
    flow = Sequential("t", [Step("slow", sleeper(5, log, "slow"), timeout=0.1)])
    async with SpellRun.open(make_kernel()) as run:
        with trio.fail_after(1), pytest.raises(LlmspellError) as info:
            await run.run_agent(flow, "x")
    assert info.value.code == "timeout"
    assert info.value.details == {"workflow": "t", "step": "slow", "seconds": 0.1}
    assert log == ["start slow", "cancelled slow"]
    with pytest.raises(LlmspellError, match="timeout"):
        Step("x", fn(1), timeout=0)


async def test_retry_attempts_and_backoff_are_visible_in_events_and_hooks() -> None:
    seen: list[tuple[str, int]] = []

    class StepHooks:
        @hookimpl
        def llmspell_before_workflow_step(self, ctx: HookContext) -> None:
            seen.append((ctx.name, ctx.metadata["attempt"]))

    kernel = make_kernel(plugins=[("h", StepHooks())])
    flaky = failing(times=2, then="third time")
    retry = RetryPolicy(attempts=4, backoff=0.05, multiplier=2)
    flow = Sequential("r", [Step("flaky", flaky, retry=retry)])
    async with SpellRun.open(kernel) as run:
        sub = await collect(run, "workflow.step.*")
        start = trio.current_time()
        assert (await run.run_agent(flow, "x")).data == "third time"
        assert trio.current_time() - start >= 0.15  # 0.05 + 0.1
        events = [(e.topic.rsplit(".", 1)[1], e.data["attempt"], e.data.get("delay"))
                  for e in drain(sub)]
    assert events == [
        ("started", 1, None), ("retrying", 1, 0.05), ("started", 2, None),
        ("retrying", 2, 0.1), ("started", 3, None), ("finished", 3, None),
    ]
    assert seen == [("r/flaky", 1), ("r/flaky", 2), ("r/flaky", 3)]


async def test_exhausted_retries_keep_the_last_error_and_on_limits_the_codes() -> None:
    always = failing("provider_error")
    only_timeouts = failing("permission_denied")
    async with SpellRun.open(make_kernel()) as run:
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(
                Sequential("r", [Step("s", always, retry=RetryPolicy(attempts=3))]), "x"
            )
        assert info.value.code == "provider_error"
        assert info.value.message == "failure 3"
        assert info.value.details["attempts"] == 3
        with pytest.raises(LlmspellError) as info:
            policy = RetryPolicy(attempts=3, on=("timeout",))
            await run.run_agent(Sequential("o", [Step("s", only_timeouts, retry=policy)]), "x")
        assert only_timeouts.calls["n"] == 1 and info.value.details["attempts"] == 1
        # a timeout is retried like any failure; continue records the last one
        log: list[str] = []
        flow = Sequential("tr", [Step("slow", sleeper(5, log, "s"), timeout=0.05,
                                      retry=RetryPolicy(attempts=2), on_error="continue")])
        error = (await run.run_agent(flow, "x")).data["error"]
        assert error["code"] == "timeout" and error["details"]["attempts"] == 2
        assert log == ["start s", "cancelled s"] * 2
    assert RetryPolicy(attempts=9, backoff=1, multiplier=3, max_delay=5).delay(3) == 5


# --- conditions ---------------------------------------------------------------------------------


async def test_conditional_on_state_conditions_and_a_default() -> None:
    router = Conditional("router", [
        (cond({"state": "mode", "equals": "fast"}), Step("fast", fn("fast"))),
        (cond({"state": "job", "scope": "spell", "path": "status", "one_of": ["done", "ok"]}),
         Step("done", fn("done"))),
        (cond({"any": [{"input": "n", "gt": 10}, {"input": "tags", "contains": "urgent"}]}),
         Step("urgent", fn("urgent"))),
        (lambda value, run: value == "fn", Step("by_function", fn("by function"))),
    ], default=Step("other", fn("default")))
    async with SpellRun.open(make_kernel()) as run:
        assert (await run.run_agent(router, {})).data == "default"
        assert (await run.run_agent(router, {"n": 11})).data == "urgent"
        assert (await run.run_agent(router, {"tags": ["urgent"]})).data == "urgent"
        assert (await run.run_agent(router, "fn")).data == "by function"
        await run.state_set("job", {"status": "ok"}, scope="spell")
        assert (await run.run_agent(router, {})).data == "done"
        await run.state_set("mode", "fast")
        assert (await run.run_agent(router, {})).data == "fast"
        assert await cond({"none": [{"state": "mode", "equals": "slow"}]}).test(None, run)
        assert await cond({"state": "nothing", "exists": False}).test(None, run)
        assert await cond({"state": "nothing", "not_equals": 1}).test(None, run)
        assert not await cond({"input": True, "gt": 1}).test("text", run)
        assert not await cond({"input": True, "equals": 1}).test(True, run)


@pytest.mark.parametrize(("data", "message"), [
    ({"state": "x"}, "test: needs exactly one operator"),
    ({"state": "x", "input": True, "equals": 1}, "both 'state' and 'input'"),
    ({"state": "x", "equal": 1}, "test: equal is not a known key; did you mean 'equals'?"),
    ({"all": [{"state": "x", "gt": "a"}]}, "test: all[1].gt must be a number"),
    ({"state": "x", "scope": "nowhere:", "equals": 1}, "test: scope"),
    ({"all": [], "state": "x"}, "test: state cannot be combined with 'all'"),
])
def test_malformed_conditions_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(LlmspellError) as info:
        cond(data)
    assert message in info.value.message


# --- a workflow is an agent ---------------------------------------------------------------------


async def test_a_workflow_wrapped_as_a_tool_is_called_by_an_agent() -> None:
    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "shout_flow", "arguments": {"input": "hi"}}]),
        "the flow said HI!",
    ])
    kernel = make_kernel(provider=provider)
    flow = Sequential("shout_flow", [Step("up", fn(str.upper)),
                                     Step("bang", fn(lambda v: v + "!"))])
    agent = LLMAgent(name="caller", model="scripted/m", tools=[agent_tool(flow)])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "use the flow")
    assert result.text == "the flow said HI!"
    assert [c["result"] for c in result.tool_calls] == ["HI!"]


# --- the script API on the real engines ---------------------------------------------------------

LUA_SPELL = """
local flow = Workflow.sequential{name = "shout", steps = {
  {fn = function(x) return x:upper() end, retry = 2, timeout = 1},
  function(x) return x .. "!" end,
}}
local tool = flow:as_tool{name = "shout_tool", description = "Shout."}
State.set("mode", "fast")
local router = Workflow.conditional{name = "router",
  branches = {{when = {state = "mode", equals = "fast"}, step = flow}},
  default = function(x) return "slow" end}
return {tool.name, Tool.call("shout_tool", {input = "hey"}), router:run("go").data}
"""

JS_SPELL = """
const flow = await Workflow.sequential({name: "shout", steps: [
  {fn: (x) => x.toUpperCase(), retry: 2, timeout: 1},
  (x) => x + "!",
]});
const tool = await flow.asTool({name: "shout_tool", description: "Shout."});
await State.set("mode", "fast");
const router = await Workflow.conditional({name: "router",
  branches: [{when: {state: "mode", equals: "fast"}, step: flow}],
  default: (x) => "slow"});
const shouted = await Tool.call("shout_tool", {input: "hey"});
export default [tool.name, shouted, (await router.run("go")).data];
"""


@pytest.mark.parametrize(("engine", "source"), [("lua", LUA_SPELL), ("js", JS_SPELL)])
async def test_spells_wrap_workflows_as_tools_and_route_on_state(engine: str, source: str) -> None:
    kernel = make_kernel(entry_points=True)
    async with SpellRun.open(kernel) as run:
        result = await kernel.engines.get(engine).run(source, f"spell.{engine}", run)
    assert result == ["shout_tool", "HEY!", "GO!"]


@pytest.mark.parametrize(("engine", "source", "message"), [
    ("lua", "Workflow.loop{body = {fn = function(x) return x end, on_error = 'break'}}",
     "Workflow.loop: body.on_error must be one of 'fail', 'continue', got 'break'"),
    ("js", "await Workflow.loop({body: {fn: (x) => x, retry: {attempts: 2, maxDelai: 1}}});",
     "Workflow.loop: body.retry.max_delai is not a known key; did you mean 'max_delay'?"),
    ("lua", "Workflow.sequential{steps = {{fn = function() end, input = 'first'}}}",
     "steps[1].input must be one of 'previous', 'original', got 'first'"),
    ("js", "await Workflow.parallel({branches: {a: {fn: (x) => x, input: 'original'}}});",
     "branches.a.input is for the steps of a sequential workflow"),
    ("lua", "Workflow.sequential{steps = {{agent = function() end}}}",
     "steps[1].agent must be an agent or a workflow, got a function"),
    ("js", "await Workflow.parallel({branches: [(x) => x], failFast: true, onError: 'continue'});",
     "fail_fast contradicts on_error = 'continue'"),
])
async def test_script_spec_errors_name_the_key(engine: str, source: str, message: str) -> None:
    kernel = make_kernel(entry_points=True)
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel) as run:
            await kernel.engines.get(engine).run(source, f"spell.{engine}", run)
    assert info.value.code == "invalid_args"
    assert message in info.value.message


# --- workflow files -----------------------------------------------------------------------------

FLOW_TOML = """
kind = "sequential"
name = "digest"

[agents.writer]
model = "scripted/demo"
instructions = "Write one sentence about the input."

[[steps]]
name = "draft"
agent = "writer"
retry = { attempts = 2, backoff = 0.01 }
timeout = 5

[[steps]]
name = "checks"
[steps.workflow]
kind = "parallel"
max_concurrency = 2
[steps.workflow.branches.twice]
tool = "echo"
input_arg = "text"
args = { repeat = 2 }
[steps.workflow.branches.sum]
tool = "calculator"
args = { expression = "6 * 7" }
on_error = "continue"

[[steps]]
name = "route"
input = { step = "draft" }
[steps.workflow]
kind = "conditional"
default = { tool = "echo", input_arg = "text", args = { repeat = 1 } }
[[steps.workflow.branches]]
when = { state = "mode", equals = "short" }
step = { tool = "echo", args = { text = "short mode" } }
"""

FLOW_YAML = """
kind: loop
max_iterations: 3
on_error: break
body:
  tool: calculator
  input_arg: expression
until: {input: true, gte: 100}
"""


def cli_kernel(replies: list[Any] | None = None) -> Kernel:
    return make_kernel(entry_points=True, provider=ScriptedProvider(
        replies or [], default="A sentence."))


def invoke(kernel: Kernel, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), obj=CliState(kernel))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMSPELL_PROJECT", raising=False)


def test_cli_runs_a_toml_workflow_file_with_input_from_args(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text(FLOW_TOML)
    kernel = cli_kernel(["Trio is nice."])
    result = invoke(kernel, "run", "digest.toml", "--", "about", "trio")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Trio is nice.\n"
    provider = kernel.providers.get("scripted")
    assert provider.requests[0].messages[-1].content == "about trio"


def test_cli_prints_data_as_json_and_runs_yaml(tmp_path: Path) -> None:
    (tmp_path / "grow.yaml").write_text(FLOW_YAML)
    (tmp_path / "fan.toml").write_text(
        'kind = "parallel"\n[branches.a]\ntool = "echo"\n'
        '[branches.b]\ntool = "calculator"\nargs = {expression = "1 + 1"}\n'
    )
    kernel = cli_kernel()
    result = invoke(kernel, "run", "grow.yaml", "--input", "3 * 3")
    assert result.exit_code == 0, result.output
    # 9; the number 9 is no expression string: the loop breaks and keeps the last value
    assert result.stdout == "9\n"
    result = invoke(kernel, "run", "fan.toml", "--", "--text", "hi")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"a": "hi", "b": 2}


@pytest.mark.parametrize(("text", "message"), [
    ('kind = "sequental"\nsteps = []', "bad.toml: kind is not a workflow kind; did you mean "
                                       "'sequential'?"),
    ('steps = []', "bad.toml: kind is required"),
    ('kind = "sequential"\n[[steps]]\ntool = "echo"\ntimout = 3',
     "bad.toml: steps[1].timout is not a known key; did you mean 'timeout'?"),
    ('kind = "sequential"\n[[steps]]\ntool = "ecko"',
     "bad.toml: steps[1].tool names no registered tool 'ecko'; did you mean 'echo'?"),
    ('kind = "sequential"\n[[steps]]\nagent = "writr"\n[agents.writer]\nmodel = "scripted/m"',
     "bad.toml: steps[1].agent names no agent 'writr' in the file's agents table; did you "
     "mean 'writer'?"),
    ('kind = "sequential"\n[[steps]]\nagent = {name = "a", tools = ["nope"]}',
     "bad.toml: steps[1].agent.tools[1] names no tool or agent 'nope'"),
    ('kind = "loop"\nbody = {tool = "echo", retry = {attempts = 0}}',
     "bad.toml: body.retry.attempts must be at least 1, got 0"),
    ('kind = "conditional"\n[[branches]]\nwhen = {state = "m", equals = 1}\n'
     '[branches.step.workflow]\nkind = "loop"\nbody = {tool = "echo"}\nmax_iterations = "3"',
     "bad.toml: branches[1].step.workflow.max_iterations must be an integer, got '3'"),
    ('kind = "sequential"\n[[steps]]\ntool = "echo"\n[[steps]]\ntool = "echo"\n'
     'input = {step = "later"}',
     "bad.toml: steps[2].input.step names no earlier step: 'later'; earlier: 'echo'"),
    ('kind = = "x"', "bad.toml: invalid TOML"),
])
def test_malformed_workflow_files_name_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.toml").write_text(text)
    result = invoke(cli_kernel(), "run", "bad.toml")
    assert result.exit_code != 0
    assert message in " ".join(result.stderr.split()), result.stderr


async def test_run_workflow_file_directly_with_agents_as_tools(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(
        'kind = "sequential"\n'
        '[agents.helper]\nmodel = "scripted/m"\n'
        '[agents.lead]\nmodel = "scripted/m"\ntools = ["helper", "echo"]\n'
        '[[steps]]\nagent = "lead"\n'
    )
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider([
        Reply(tool_calls=[{"name": "helper", "arguments": {"input": "help"}}]),
        "helped", "lead done",
    ]))
    flow = load_workflow(kernel, path)
    assert flow.name == "team"
    from llmspell.security import SecurityPolicy

    assert await run_workflow_file(kernel, path, {"_": ["go"]}, SecurityPolicy()) == "lead done"


def test_the_example_workflow_file_runs_in_the_real_cli(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[2] / "examples" / "workflow.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    env["LLMSPELL_PROJECT"] = str(tmp_path)
    script = str(Path(sys.executable).with_name("llmspell"))  # the console script
    command = [script, "run", str(example), "--", "2 ** 10"]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"plain": "big", "loud": "big big big"}
    (tmp_path / "broken.toml").write_text('kind = "loop"\nbody = {tool = "echo"}\nuntil = 3\n')
    command[2] = str(tmp_path / "broken.toml")
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert "broken.toml: until must be a condition table" in out.stderr
