"""hooks-otel: OpenTelemetry spans for spell runs, agents, model calls, tools, workflows and their
steps, with GenAI attributes, parents from the OpenTelemetry context, errors, and OTLP/HTTP
export."""

from __future__ import annotations

import http.server
import threading
import tomllib
from typing import Any

import pytest
import trio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import Skip
from llmspell.messages import Usage
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider
from llmspell.tools import Tool
from llmspell.workflows import Parallel, Sequential, Step
from llmspell_hooks import otel


def make_kernel(toml: str = "", enable: tuple[str, ...] = ("hooks-otel",)) -> Kernel:
    config = llmspell.config.parse(tomllib.loads(toml))
    return Kernel.load(env={}, enable=list(enable), config=config)


def traced(
    *replies: Any, enable: tuple[str, ...] = ("hooks-otel",), toml: str = ""
) -> tuple[Kernel, InMemorySpanExporter, ScriptedProvider]:
    kernel = make_kernel(toml, enable)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.use_tracer_provider(kernel, provider)
    scripted = ScriptedProvider(replies, default=Reply(text="done"))
    kernel.providers.add(scripted.name, scripted, replace=True)
    return kernel, exporter, scripted


class Spans:
    """The finished spans, looked up by name, with their parents."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.all: list[ReadableSpan] = sorted(exporter.get_finished_spans(),
                                              key=lambda s: s.start_time or 0)
        self.by_id = {s.context.span_id: s for s in self.all}

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, (name, [s.name for s in self.all])
        return found[0]

    def parent(self, span: ReadableSpan) -> ReadableSpan | None:
        return self.by_id.get(span.parent.span_id) if span.parent is not None else None

    def tree(self) -> list[tuple[str, str | None]]:
        out = []
        for s in self.all:
            parent = self.parent(s)
            out.append((s.name, parent.name if parent is not None else None))
        return out


def tool_calls(*calls: tuple[str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": i, "name": n, "arguments": a} for i, n, a in calls]


async def test_an_agent_run_with_tool_calls(autojump_clock):
    kernel, exporter, _ = traced(
        Reply(tool_calls=tool_calls(("call_a", "calculator", {"expression": "6 * 7"}),
                                    ("call_b", "echo", {"text": "hi"})),
              usage=Usage(10, 5)),
        Reply(text="It is 42.", usage=Usage(20, 3, 0.25)),
    )
    agent = LLMAgent(name="math", model="scripted/demo", tools=["calculator", "echo"],
                     temperature=0.2)
    async with SpellRun.open(kernel, name="sums.py") as run:
        result = await run.run_agent(agent, "What is 6 * 7?")
    assert result.text == "It is 42."
    spans = Spans(exporter)
    assert sorted(spans.tree()) == sorted([
        ("spell sums.py", None),
        ("invoke_agent math", "spell sums.py"),
        ("chat demo", "invoke_agent math"),
        ("execute_tool calculator", "invoke_agent math"),
        ("execute_tool echo", "invoke_agent math"),
        ("chat demo", "invoke_agent math"),
    ])
    assert len({s.context.trace_id for s in spans.all}) == 1
    first, second = spans.named("chat demo")
    assert first.kind == trace.SpanKind.CLIENT
    assert dict(first.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "scripted",
        "gen_ai.system": "scripted",
        "gen_ai.request.model": "demo",
        "gen_ai.request.temperature": 0.2,
        "llmspell.model": "scripted/demo",
        "gen_ai.response.model": "demo",
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
    }
    assert second.attributes["gen_ai.usage.input_tokens"] == 20
    assert second.attributes["gen_ai.usage.output_tokens"] == 3
    assert second.attributes["llmspell.usage.cost"] == 0.25
    assert second.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    calc = spans.one("execute_tool calculator")
    assert calc.attributes["gen_ai.operation.name"] == "execute_tool"
    assert calc.attributes["gen_ai.tool.name"] == "calculator"
    assert calc.attributes["gen_ai.tool.call.id"] == "call_a"
    assert spans.one("execute_tool echo").attributes["gen_ai.tool.call.id"] == "call_b"
    assert first.end_time <= calc.start_time and calc.end_time <= second.start_time
    agent_span = spans.one("invoke_agent math")
    assert agent_span.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent_span.attributes["gen_ai.agent.name"] == "math"
    assert agent_span.attributes["gen_ai.usage.input_tokens"] == 30
    assert agent_span.attributes["gen_ai.usage.output_tokens"] == 8
    spell = spans.one("spell sums.py")
    assert spell.attributes["llmspell.run_id"] == run.run_id
    assert all(s.status.status_code == StatusCode.UNSET for s in spans.all)


async def test_a_workflow_with_two_steps(autojump_clock):
    kernel, exporter, _ = traced(Reply(text="draft", usage=Usage(7, 2)))
    writer = LLMAgent(name="writer", model="scripted/demo")
    flow = Sequential("pipeline", [
        Step("write", writer),
        Step("shout", lambda text, run: text.upper()),
    ])
    async with SpellRun.open(kernel, name="flow.py") as run:
        assert (await run.run_agent(flow, "go")).data == "DRAFT"
    spans = Spans(exporter)
    assert spans.tree() == [
        ("spell flow.py", None),
        ("invoke_workflow pipeline", "spell flow.py"),
        ("workflow_step pipeline/write", "invoke_workflow pipeline"),
        ("invoke_agent writer", "workflow_step pipeline/write"),
        ("chat demo", "invoke_agent writer"),
        ("workflow_step pipeline/shout", "invoke_workflow pipeline"),
    ]
    workflow = spans.one("invoke_workflow pipeline")
    assert workflow.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert workflow.attributes["gen_ai.workflow.name"] == "pipeline"
    assert workflow.attributes["gen_ai.usage.input_tokens"] == 7
    step = spans.one("workflow_step pipeline/write")
    assert step.attributes["llmspell.workflow.name"] == "pipeline"
    assert step.attributes["llmspell.workflow.step"] == "write"
    assert step.attributes["llmspell.workflow.step.attempt"] == 1


async def test_parallel_branches_are_children_of_their_steps(autojump_clock):
    kernel, exporter, _ = traced()
    fan = Parallel("fan", [
        Step("left", LLMAgent(name="lefty", model="scripted/a")),
        Step("right", LLMAgent(name="righty", model="scripted/b")),
    ])
    async with SpellRun.open(kernel, name="fan.py") as run:
        await run.run_agent(fan, "go")
    tree = Spans(exporter).tree()
    assert ("invoke_agent lefty", "workflow_step fan/left") in tree
    assert ("invoke_agent righty", "workflow_step fan/right") in tree
    assert ("chat a", "invoke_agent lefty") in tree
    assert ("chat b", "invoke_agent righty") in tree


async def test_errors_set_status_and_error_type(autojump_clock):
    kernel, exporter, _ = traced(
        Reply(tool_calls=tool_calls(("c1", "broken", {}))),
        Reply(text="the tool failed"),
        Reply(error=ConnectionError("provider down")),
    )

    async def broken(args: dict[str, Any], ctx: Any) -> Any:
        raise ValueError("bad gear")

    kernel.tools.register(Tool(name="broken", description="Always fails.", run=broken))
    agent = LLMAgent(name="worker", model="scripted/demo", tools=["broken"])
    with pytest.raises(LlmspellError) as err:
        async with SpellRun.open(kernel, name="bad.py") as run:
            assert (await run.run_agent(agent, "try")).text == "the tool failed"
            await run.run_agent(agent, "again")  # the model call fails
    assert err.value.code == "provider_error"
    spans = Spans(exporter)
    tool = spans.one("execute_tool broken")
    assert tool.status.status_code == StatusCode.ERROR
    assert tool.attributes["error.type"] == "tool_error"
    assert "bad gear" in (tool.status.description or "")
    assert tool.events[0].name == "exception"
    first_agent, second_agent = spans.named("invoke_agent worker")
    assert first_agent.status.status_code == StatusCode.UNSET  # it handled the tool's error
    assert second_agent.status.status_code == StatusCode.ERROR
    assert second_agent.attributes["error.type"] == "provider_error"
    failed_chat = spans.named("chat demo")[-1]
    assert failed_chat.attributes["error.type"] == "provider_error"
    assert spans.parent(failed_chat) is second_agent
    spell = spans.one("spell bad.py")
    assert spell.status.status_code == StatusCode.ERROR
    assert spell.attributes["error.type"] == "provider_error"


async def test_cancelled_operations_end_with_an_error_status(autojump_clock):
    kernel, exporter, _ = traced(Reply(text="too late", delay=30))
    slow = LLMAgent(name="slow", model="scripted/demo")
    flow = Sequential("hurry", [Step("wait", slow, timeout=1.0, on_error="continue")])
    async with SpellRun.open(kernel, name="hurry.py") as run:
        out = await run.run_agent(flow, "go")
    assert out.data["error"]["code"] == "timeout"
    spans = Spans(exporter)
    assert sorted(spans.tree()) == sorted([
        ("spell hurry.py", None),
        ("invoke_workflow hurry", "spell hurry.py"),
        ("workflow_step hurry/wait", "invoke_workflow hurry"),
        ("invoke_agent slow", "workflow_step hurry/wait"),
        ("chat demo", "invoke_agent slow"),
    ])
    step = spans.one("workflow_step hurry/wait")
    assert step.attributes["error.type"] == "timeout"
    for name in ("invoke_agent slow", "chat demo"):
        span = spans.one(name)
        assert span.status.status_code == StatusCode.ERROR
        assert span.attributes["error.type"] == "cancelled"
        assert span.end_time <= step.end_time
    assert spans.one("spell hurry.py").status.status_code == StatusCode.UNSET


async def test_a_span_still_open_at_spell_end_is_ended_there(autojump_clock):
    kernel, exporter, _ = traced()

    async def stuck(args: dict[str, Any], ctx: Any) -> Any:
        await trio.sleep_forever()

    kernel.tools.register(Tool(name="stuck", description="Never returns.", run=stuck))
    async with SpellRun.open(kernel, name="stuck.py") as run:
        with trio.move_on_after(1):
            await run.call_tool("stuck", {})
        # the tool's span was left open in this very task: later spans are not its children
        await run.call_tool("echo", {"text": "after"})
    spans = Spans(exporter)
    assert sorted(spans.tree()) == sorted([
        ("spell stuck.py", None),
        ("execute_tool stuck", "spell stuck.py"),
        ("execute_tool echo", "spell stuck.py"),
    ])
    stuck_span = spans.one("execute_tool stuck")
    assert stuck_span.status.status_code == StatusCode.ERROR
    assert stuck_span.attributes["error.type"] == "cancelled"
    # ended as soon as the next operation found it abandoned
    assert stuck_span.end_time <= spans.one("execute_tool echo").start_time


async def test_a_span_left_open_by_a_hook_is_ended_at_spell_end(autojump_clock):
    kernel, exporter, _ = traced()
    async with SpellRun.open(kernel, name="veto.py") as run:
        run.hooks.register("after_tool_call", lambda ctx: {"action": "cancel", "reason": "no"},
                           priority=10)
        with pytest.raises(LlmspellError) as err:
            await run.call_tool("echo", {"text": "hi"})
        assert err.value.code == "hook_cancelled"
    spans = Spans(exporter)
    assert spans.tree() == [("spell veto.py", None), ("execute_tool echo", "spell veto.py")]
    echo = spans.one("execute_tool echo")
    assert echo.attributes["error.type"] == "cancelled"
    assert echo.end_time <= spans.one("spell veto.py").end_time


async def test_skipped_and_retried_operations(autojump_clock):
    kernel, exporter, _ = traced(enable=("hooks-otel", "hooks-retry"))
    calls = {"n": 0}

    async def flaky(args: dict[str, Any], ctx: Any) -> Any:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("try again")
        return "ok"

    kernel.tools.register(Tool(name="flaky", description="Fails twice.", run=flaky))
    async with SpellRun.open(kernel, name="x.py") as run:
        run.hooks.register(
            "before_tool_call", lambda ctx: Skip("cached") if ctx.name == "echo" else None
        )
        assert await run.call_tool("echo", {"text": "hi"}) == "cached"
        assert await run.call_tool("flaky", {}) == "ok"
    spans = Spans(exporter)
    skipped = spans.one("execute_tool echo")
    assert skipped.attributes["llmspell.skipped"] is True
    assert spans.parent(skipped).name == "spell x.py"
    retried = spans.one("execute_tool flaky")
    assert retried.attributes["llmspell.retries"] == 2
    assert retried.status.status_code == StatusCode.UNSET


async def test_an_after_hook_failing_the_call_gives_its_code_to_the_span(autojump_clock):
    kernel, exporter, _ = traced(Reply(text="expensive", usage=Usage(1000, 1000)))

    def budget(ctx: Any) -> None:
        if ctx.kind == "llm_call":
            raise LlmspellError("budget_exceeded", "the run's token budget is used up")

    agent = LLMAgent(name="spender", model="scripted/demo")
    with pytest.raises(LlmspellError):
        async with SpellRun.open(kernel, name="budget.py") as run:
            run.hooks.register("after_llm_call", budget, priority=50)
            await run.run_agent(agent, "go")
    spans = Spans(exporter)
    for name in ("chat demo", "invoke_agent spender", "spell budget.py"):
        span = spans.one(name)
        assert span.status.status_code == StatusCode.ERROR, name
        assert span.attributes["error.type"] == "budget_exceeded", name
    chat = spans.one("chat demo")
    assert chat.end_time <= spans.one("invoke_agent spender").end_time


LUA = """
local helper = Agent.create{name = "helper", model = "scripted/demo", tools = {"echo"}}
return helper:run("echo it").text
"""

JS = """
const helper = await Agent.create({name: "helper", model: "scripted/demo", tools: ["echo"]});
export default (await helper.run("echo it")).text;
"""


@pytest.mark.parametrize(("engine", "source"), [("lua", LUA), ("js", JS)])
async def test_spans_from_spells(engine, source, autojump_clock):
    kernel, exporter, _ = traced(
        Reply(tool_calls=tool_calls(("e1", "echo", {"text": "hey"})), usage=Usage(3, 4)),
        Reply(text="echoed", usage=Usage(5, 1)),
    )
    async with SpellRun.open(kernel, name=f"spell.{engine}") as run:
        assert await kernel.engines.get(engine).run(source, f"spell.{engine}", run) == "echoed"
    spans = Spans(exporter)
    spell = f"spell spell.{engine}"
    assert sorted(spans.tree()) == sorted([
        (spell, None),
        ("invoke_agent helper", spell),
        ("chat demo", "invoke_agent helper"),
        ("execute_tool echo", "invoke_agent helper"),
        ("chat demo", "invoke_agent helper"),
    ])
    assert spans.one("execute_tool echo").attributes["gen_ai.tool.call.id"] == "e1"
    assert spans.one("invoke_agent helper").attributes["gen_ai.usage.input_tokens"] == 8


def test_the_global_tracer_provider_is_left_alone():
    kernel, _, _ = traced()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert otel.tracer_provider(kernel) is not None


async def test_enabled_without_endpoint_or_provider_traces_nothing():
    kernel = make_kernel()
    assert "hooks-otel" in kernel.plugins
    assert otel.tracer_provider(kernel) is None
    async with SpellRun.open(kernel) as run:
        assert await run.call_tool("echo", {"text": "hi"}) == "hi"
    assert "hooks-otel" not in make_kernel(enable=()).plugins


def test_use_tracer_provider_needs_the_plugin():
    with pytest.raises(LlmspellError) as err:
        otel.use_tracer_provider(make_kernel(enable=()), TracerProvider())
    assert err.value.code == "plugin_error"


# --- OTLP over HTTP ---------------------------------------------------------------------------


class Collector(http.server.BaseHTTPRequestHandler):
    """Records the POSTs it receives."""

    posts: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append(  # type: ignore[attr-defined]
            (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    server.posts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


async def test_export_to_an_otlp_http_endpoint(collector, monkeypatch):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    monkeypatch.setenv("OTEL_TEST_TOKEN", "Bearer not-in-the-file")
    port = collector.server_address[1]
    kernel = make_kernel(
        "[plugins.hooks-otel]\n"
        f'endpoint = "http://127.0.0.1:{port}"\n'
        'service_name = "spell-tests"\n'
        'headers = {authorization = "OTEL_TEST_TOKEN"}\n'
    )
    scripted = ScriptedProvider([Reply(text="hi there", usage=Usage(4, 2))])
    kernel.providers.add(scripted.name, scripted, replace=True)
    async with SpellRun.open(kernel, name="export.py") as run:
        await run.run_agent(LLMAgent(name="greeter", model="scripted/demo"), "hello")
    # flushed at spell end: nothing left to wait for
    assert collector.posts, "no export at spell end"
    spans = []
    resources = []
    for path, headers, body in collector.posts:
        assert path == "/v1/traces"
        assert headers["content-type"] == "application/x-protobuf"
        assert headers["authorization"] == "Bearer not-in-the-file"
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        for resource_spans in message.resource_spans:
            resources.append({a.key: a.value.string_value
                              for a in resource_spans.resource.attributes})
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    assert {r["service.name"] for r in resources} == {"spell-tests"}
    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"spell export.py", "invoke_agent greeter", "chat demo"}
    chat = by_name["chat demo"]
    assert chat.parent_span_id == by_name["invoke_agent greeter"].span_id
    tokens = {a.key: a.value.int_value for a in chat.attributes if a.key.startswith("gen_ai.usage")}
    assert tokens == {"gen_ai.usage.input_tokens": 4, "gen_ai.usage.output_tokens": 2}
    otel.shutdown(kernel)


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ('endpoint = "localhost:4318"', "plugins.hooks-otel.endpoint", "http://"),
        ('headers = {authorization = "Bearer abc"}', "plugins.hooks-otel.headers.authorization",
         "must name an environment variable"),
        ('endpoint = "http://127.0.0.1:9"\nheaders = {x-key = "LLMSPELL_TEST_UNSET_VAR"}',
         "plugins.hooks-otel.headers.x-key", "which is not set"),
        ("timeout = 0", "plugins.hooks-otel.timeout", "greater than 0"),
        ('service = "x"', "plugins.hooks-otel.service", "did you mean 'service_name'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(toml, key, problem, monkeypatch):
    monkeypatch.delenv("LLMSPELL_TEST_UNSET_VAR", raising=False)
    with pytest.raises(LlmspellError) as err:
        make_kernel("[plugins.hooks-otel]\n" + toml)
    assert err.value.code == "config_error"
    assert err.value.details["key"] == key
    assert problem in err.value.message


def test_traces_url():
    assert otel.traces_url("http://h:4318") == "http://h:4318/v1/traces"
    assert otel.traces_url("http://h:4318/") == "http://h:4318/v1/traces"
    assert otel.traces_url("https://h/otlp/v1/traces") == "https://h/otlp/v1/traces"
