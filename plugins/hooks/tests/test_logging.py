"""hooks-logging: structured records of every operation through the ``llmspell.*`` loggers, their
levels, the JSON-lines file, payloads, and the redaction of secrets (llmspell_hooks.redact,
property-tested with hypothesis)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import attrs
import pytest
from hook_support import ADD, AGENT, BOOM, HOOKS, answerer
from hypothesis import given, settings
from hypothesis import strategies as st

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import Cancel, HookPoint, Retry
from llmspell.runtime import SpellRun
from llmspell.testing import ScriptedProvider
from llmspell.tools import Tool
from llmspell_hooks import logging_hook
from llmspell_hooks.redact import (
    MAX_TEXT,
    REDACTED,
    bounded,
    redact,
    redact_text,
    secret_key,
    summarize,
)

answer = answerer()


def load(toml: str = "", enable: tuple[str, ...] = ("hooks-logging",)) -> Kernel:
    """A kernel with only the hooks in ``enable``, the scripted provider and two tools."""
    config = llmspell.config.parse(tomllib.loads(toml))
    kernel = Kernel.load(env={}, config=config, enable=list(enable),
                         disable=[h for h in HOOKS if h not in enable])
    kernel.providers.add("scripted", ScriptedProvider(default=answer), replace=True)
    kernel.tools.register(ADD, replace=True)
    kernel.tools.register(BOOM, replace=True)
    return kernel


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records hooks-logging made."""
    return [r for r in caplog.records if isinstance(getattr(r, "llmspell", None), dict)]


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return logging_hook.record_fields(record)


@pytest.fixture(autouse=True)
def capture_all(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="llmspell")



# --- levels -----------------------------------------------------------------------------------


def test_on_by_default_and_a_normal_run_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    assert logging_hook.llmspell_default_enabled is True
    kernel = Kernel.load(env={}, config=llmspell.config.Config())
    assert "hooks-logging" in kernel.plugins
    assert logging_hook.state(kernel).level == logging.WARNING


async def test_default_level_records_nothing_for_a_successful_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kernel = load()
    async with SpellRun.open(kernel, name="quiet") as run:
        result = await run.run_agent(AGENT, "what is 2 + 3? use add")
        await run.state_set("k", 1)
    assert result.text == "done: 5"
    assert ours(caplog) == []


async def test_filtered_records_cost_no_work(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the default level the hooks never build, redact or emit a record of a successful
    operation."""
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("work done for a filtered record")

    for name in ("_emit", "_fields", "summarize", "redact_text"):
        monkeypatch.setattr(logging_hook, name, forbidden)
    kernel = load()
    async with SpellRun.open(kernel) as run:
        assert (await run.run_agent(AGENT, "use add")).text == "done: 5"
        await run.state_set("k", 1)


def test_the_default_level_adds_no_operation_hooks() -> None:
    """At warning a successful operation does not call hooks-logging at all: its before/after
    hooks are registered, bound to the kernel's settings, only at info (after) and debug."""
    def names(kernel: Kernel, point: HookPoint) -> list[str]:
        return [e.name for e in kernel.hooks.chain(point) if e.name.startswith("hooks-logging")]

    after, before = HookPoint.AFTER_TOOL_CALL, HookPoint.BEFORE_TOOL_CALL
    for level, befores, afters in (("warning", 0, 0), ("info", 0, 1), ("debug", 1, 1)):
        kernel = load(f'[plugins.hooks-logging]\nlevel = "{level}"\n')
        assert (len(names(kernel, before)), len(names(kernel, after))) == (befores, afters), level
        assert names(kernel, HookPoint.ON_ERROR) == ["hooks-logging.llmspell_on_error"]
        # on_error runs last: it sees only the errors no other hook recovered from or retried
        assert kernel.hooks.chain(HookPoint.ON_ERROR)[-1].name == "hooks-logging.llmspell_on_error"
    # loading the plugin again in the same kernel replaces the operation hooks (no duplicates)
    kernel = load('[plugins.hooks-logging]\nlevel = "debug"\n')
    logging_hook.llmspell_configure(
        llmspell.config.parse(tomllib.loads('[plugins.hooks-logging]\nlevel = "info"\n')), kernel)
    assert (len(names(kernel, before)), len(names(kernel, after))) == (0, 1)
    assert logging_hook.state(kernel).level == logging.INFO


async def test_info_records_every_operation_with_its_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kernel = load('[plugins.hooks-logging]\nlevel = "info"\n')
    async with SpellRun.open(kernel, name="spell.lua") as run:
        result = await run.run_agent(AGENT, "use add")
        await run.state_set("answer", result.text)
    got = [(r.name, r.levelname, fields(r)["kind"], fields(r)["name"], fields(r)["event"])
           for r in ours(caplog)]
    assert got == [
        ("llmspell.run", "INFO", "spell", "spell.lua", "start"),
        ("llmspell.llm", "INFO", "llm_call", "scripted/test", "end"),
        ("llmspell.tool", "INFO", "tool_call", "add", "end"),
        ("llmspell.llm", "INFO", "llm_call", "scripted/test", "end"),
        ("llmspell.agent", "INFO", "agent", "adder", "end"),
        ("llmspell.state", "INFO", "state_write", "global/answer", "end"),
        ("llmspell.run", "INFO", "spell", "spell.lua", "end"),
    ]
    records = ours(caplog)
    for record in records:
        assert fields(record)["run_id"] == run.run_id
        assert fields(record)["spell"] == "spell.lua"
    for record in records[1:]:
        assert isinstance(fields(record)["duration_ms"], float)
        assert fields(record)["duration_ms"] >= 0
    llm = fields(records[1])
    assert llm["input_tokens"] > 0 and llm["tokens"] == llm["input_tokens"] + llm["output_tokens"]
    assert llm["cost"] == 0.0
    agent = fields(records[4])
    assert agent["tokens"] == result.usage.total_tokens
    assert fields(records[5])["op"] == "set"
    assert records[2].getMessage().startswith("tool_call 'add' finished in ")
    assert "input" not in llm and "output" not in llm  # no payloads unless asked


async def test_debug_records_operations_starting(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load('[plugins.hooks-logging]\nlevel = "debug"\n')
    async with SpellRun.open(kernel) as run:
        await run.call_tool("add", {"a": 1, "b": 2})
    got = [(r.levelname, fields(r)["kind"], fields(r)["event"]) for r in ours(caplog)]
    assert got == [("INFO", "spell", "start"), ("DEBUG", "tool_call", "start"),
                   ("INFO", "tool_call", "end"), ("INFO", "spell", "end")]


async def test_level_error_drops_info_but_keeps_errors(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load('[plugins.hooks-logging]\nlevel = "error"\n')
    async with SpellRun.open(kernel) as run:
        await run.call_tool("add", {"a": 1, "b": 2})
        with pytest.raises(LlmspellError):
            await run.call_tool("boom", {})
    assert [(r.levelname, fields(r)["name"]) for r in ours(caplog)] == [("ERROR", "boom")]


# --- errors -----------------------------------------------------------------------------------


async def test_an_error_is_logged_at_error_when_it_happens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A tool failure the agent recovers from is logged as it happens (on_error), between the
    model calls around it."""
    kernel = load('[plugins.hooks-logging]\nlevel = "info"\n')
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(AGENT, "use boom")
    assert result.text.startswith("done: ")
    got = [(r.levelname, fields(r)["kind"], fields(r)["event"]) for r in ours(caplog)]
    assert got[1:-1] == [
        ("INFO", "llm_call", "end"),
        ("ERROR", "tool_call", "error"),
        ("INFO", "llm_call", "end"),
        ("INFO", "agent", "end"),
    ]
    error = ours(caplog)[2]
    assert error.name == "llmspell.tool"
    assert fields(error)["error_code"] == "tool_error"
    assert "kaput" in fields(error)["error"] and "kaput" in error.getMessage()
    assert fields(error)["duration_ms"] >= 0


async def test_an_error_failing_the_spell_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load()
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel, name="fails") as run:
            await run.run_agent(LLMAgent(name="solo", model="scripted/test", tools=["boom"]),
                                "use boom")
            await run.call_tool("boom", {})
    assert info.value.code == "tool_error"
    errors = [(r.levelname, fields(r)["kind"]) for r in ours(caplog)]
    # the agent's own tool failure (recovered), then the failure that ended the spell: once
    assert errors == [("ERROR", "tool_call"), ("ERROR", "tool_call")]


async def test_the_spell_failure_is_logged_at_info_when_already_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kernel = load('[plugins.hooks-logging]\nlevel = "info"\n')
    with pytest.raises(LlmspellError):
        async with SpellRun.open(kernel, name="fails") as run:
            await run.call_tool("boom", {})
    got = [(r.levelname, fields(r)["kind"], fields(r)["event"]) for r in ours(caplog)]
    assert got == [("INFO", "spell", "start"), ("ERROR", "tool_call", "error"),
                   ("INFO", "spell", "error")]
    assert fields(ours(caplog)[-1])["error_code"] == "tool_error"


async def test_a_cancelled_operation_is_logged_where_its_error_ends_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hook's Cancel is not a failure of the operation (its on_error hooks do not run) and
    the operation has no record of its own: the hook_cancelled error is logged by what it
    fails, here the spell."""
    kernel = load('[plugins.hooks-logging]\nlevel = "info"\n')
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel, name="cancels") as run:
            run.hooks.register("before_tool_call", lambda ctx: Cancel("no"))
            # the agent hands the refusal to the model as the tool's result, and goes on
            assert (await run.run_agent(AGENT, "use add")).text.startswith("done: ")
            await run.call_tool("add", {"a": 1, "b": 2})
    assert info.value.code == "hook_cancelled"
    got = [(r.levelname, fields(r)["kind"], fields(r)["event"]) for r in ours(caplog)]
    assert got == [("INFO", "spell", "start"), ("INFO", "llm_call", "end"),
                   ("INFO", "llm_call", "end"), ("INFO", "agent", "end"),
                   ("ERROR", "spell", "error")]
    assert fields(ours(caplog)[-1])["error_code"] == "hook_cancelled"


async def test_retried_and_recovered_failures_are_not_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The on_error hook has the lowest priority: a failure another hook retries or recovers
    from never reaches it; one it stops retrying is logged once, with its attempt."""
    kernel = load('[plugins.hooks-logging]\nlevel = "info"\n')
    async with SpellRun.open(kernel) as run:
        run.hooks.register("on_error", lambda ctx: Retry("again") if ctx.attempt < 2 else None)
        with pytest.raises(LlmspellError):
            await run.call_tool("boom", {})
    errors = [fields(r) for r in ours(caplog) if fields(r)["event"] == "error"]
    assert [(e["name"], e["attempt"]) for e in errors] == [("boom", 2)]
    assert errors[0]["duration_ms"] >= 0
async def test_spells_in_both_engines_are_logged(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    kernel = load(f'[plugins.hooks-logging]\nlevel = "info"\nfile = {json.dumps(str(path))}\n')
    lua = """
local agent = Agent.create{name = "luagent", model = "scripted/test", tools = {"add"}}
agent:run("use add")
State.set("n", Tool.call("add", {a = 1, b = 2}))
local ok = pcall(Tool.call, "boom", {})
return "ok"
"""
    js = """
const agent = await Agent.create({name: "jsagent", model: "scripted/test", tools: ["add"]});
await agent.run("use add");
await State.set("n", await Tool.call("add", {a: 1, b: 2}));
try { await Tool.call("boom", {}); } catch (e) {}
export default "ok";
"""
    for engine, source in (("lua", lua), ("js", js)):
        async with SpellRun.open(kernel, name=f"x.{engine}") as run:
            assert await kernel.engines.get(engine).run(source, f"x.{engine}", run) == "ok"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for engine, agent in (("lua", "luagent"), ("js", "jsagent")):
        mine = [(r["level"], r["kind"], r["name"], r["event"])
                for r in lines if r["spell"] == f"x.{engine}"]
        assert mine == [
            ("INFO", "spell", f"x.{engine}", "start"),
            ("INFO", "llm_call", "scripted/test", "end"),
            ("INFO", "tool_call", "add", "end"),
            ("INFO", "llm_call", "scripted/test", "end"),
            ("INFO", "agent", agent, "end"),
            ("INFO", "tool_call", "add", "end"),
            ("INFO", "state_write", "global/n", "end"),
            ("ERROR", "tool_call", "boom", "error"),
            ("INFO", "spell", f"x.{engine}", "end"),
        ]
    assert all(set(r) >= {"ts", "level", "logger", "message", "run_id"} for r in lines)


# --- payloads and redaction -------------------------------------------------------------------


async def test_payloads_are_left_out_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    kernel = load('[plugins.hooks-logging]\nlevel = "debug"\n')
    async with SpellRun.open(kernel) as run:
        await run.run_agent(AGENT, "use add, my secret plan is 7bf3c1")
    assert ours(caplog)
    for record in ours(caplog):
        assert "7bf3c1" not in json.dumps(fields(record)) + record.getMessage()


async def test_payloads_are_truncated_and_redacted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-0123456789")
    path = tmp_path / "log.jsonl"
    kernel = load('[plugins.hooks-logging]\nlevel = "debug"\ninclude_payloads = true\n'
                  f'max_payload_chars = 80\nfile = {json.dumps(str(path))}\n')
    secret = "sk-" + "A1b2C3d4" * 4
    prompt = f"use add with key {secret} and acme-0123456789 " + "x" * 300
    async with SpellRun.open(kernel) as run:
        await run.run_agent(AGENT, prompt)
    records = ours(caplog)
    (agent_start,) = [fields(r) for r in records
                      if (fields(r)["kind"], fields(r)["event"]) == ("agent", "start")]
    assert agent_start["input"].startswith(f"use add with key {REDACTED} and {REDACTED} xxx")
    assert len(agent_start["input"]) == 80 and agent_start["input"].endswith("…")
    tool_end = [fields(r) for r in records if fields(r)["kind"] == "tool_call"][-1]
    assert tool_end["output"] == "5"
    everything = path.read_text() + "".join(json.dumps(fields(r)) for r in records)
    assert "acme-0123456789" not in everything and secret not in everything
    assert all(len(fields(r).get("output", "")) <= 80 for r in records)


async def test_error_messages_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secret = "ghp_" + "Z9" * 18

    async def leaky(args: dict[str, Any], ctx: Any) -> Any:
        raise ConnectionError(f"401 for token {secret}")

    kernel = load()
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError):
            await run.call_tool(Tool(name="leaky", description="x", run=leaky), {})
    (record,) = ours(caplog)
    assert secret not in record.getMessage() and secret not in json.dumps(fields(record))
    assert REDACTED in fields(record)["error"]


# --- output -----------------------------------------------------------------------------------


def test_formatters() -> None:
    record = logging.LogRecord("llmspell.tool", logging.ERROR, __file__, 1, "tool_call 'x' failed",
                               None, None)
    record.llmspell = {"kind": "tool_call", "name": "x", "run_id": "r1", "duration_ms": 1.5,
                       "error_code": "tool_error"}
    data = json.loads(logging_hook.JsonFormatter().format(record))
    assert data["level"] == "ERROR" and data["logger"] == "llmspell.tool"
    assert data["message"] == "tool_call 'x' failed" and data["run_id"] == "r1"
    assert data["ts"].endswith("Z")
    text = logging_hook.TextFormatter().format(record)
    assert text == ('ERROR llmspell.tool: tool_call \'x\' failed '
                    '[run_id="r1" duration_ms=1.5 error_code="tool_error"]')


async def test_stderr_when_logging_is_not_configured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no handler anywhere (pytest's are on the root logger: cut the tree off), the
    records print on stderr in the format of their kernel, and only once."""
    tool_logger = logging.getLogger("llmspell.tool")
    monkeypatch.setattr(tool_logger, "propagate", False)
    for fmt in ("text", "json"):
        kernel = load(f'[plugins.hooks-logging]\nformat = "{fmt}"\n')
        async with SpellRun.open(kernel) as run:
            await run.call_tool("add", {"a": 1, "b": 2})
            with pytest.raises(LlmspellError):
                await run.call_tool("boom", {})
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1, lines
        if fmt == "json":
            assert json.loads(lines[0])["error_code"] == "tool_error"
        else:
            assert lines[0].startswith("ERROR llmspell.tool: tool_call 'boom' failed: tool_error")


async def test_a_failed_spell_is_logged_but_not_printed_by_the_fallback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """The spell's own failure goes to the file and to configured handlers at ERROR, but the
    stderr fallback leaves it out: whoever ran the spell gets the error (llmspell run prints
    it)."""
    monkeypatch.setattr(logging.getLogger("llmspell.run"), "propagate", False)
    path = tmp_path / "log.jsonl"
    kernel = load(f"[plugins.hooks-logging]\nfile = {json.dumps(str(path))}\n")
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel, name="x.lua") as run:
            await kernel.engines.get("lua").run('error("boom")', "x.lua", run)
    assert "boom" in info.value.message
    assert capsys.readouterr().err == ""
    (line,) = [json.loads(x) for x in path.read_text().splitlines()]
    assert (line["level"], line["logger"], line["event"]) == ("ERROR", "llmspell.run", "error")
    assert "boom" in line["error"]
    # a configured handler (pytest's, once the logger propagates) still gets the record
    monkeypatch.setattr(logging.getLogger("llmspell.run"), "propagate", True)
    with pytest.raises(LlmspellError):
        async with SpellRun.open(kernel, name="y.lua") as run:
            await kernel.engines.get("lua").run('error("bang")', "y.lua", run)
    assert [(r.levelname, r.name, fields(r)["name"]) for r in ours(caplog)] == [
        ("ERROR", "llmspell.run", "y.lua")]
    assert capsys.readouterr().err == ""


def test_llmspell_run_reports_a_failed_spell_once(tmp_path: Path) -> None:
    (tmp_path / "x.lua").write_text('error("boom")\n')
    script = Path(sys.executable).with_name("llmspell")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    proc = subprocess.run([str(script), "run", "x.lua"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert not [line for line in lines if line.startswith("ERROR llmspell.run")], lines
    assert sum("boom" in line for line in lines) == 1, lines


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ('levle = "info"', "levle", "did you mean 'level'"),
    ('level = "loud"', "level", "must be one of debug, info, warning, error, critical"),
    ('format = "xml"', "format", "must be 'text' or 'json'"),
    ("include_payloads = 1", "include_payloads", "must be bool"),
    ("max_payload_chars = 0", "max_payload_chars", "must be greater than 0"),
    ('file = "/no/such/dir/log.jsonl"', "file", "directory that does not exist"),
])
def test_bad_settings_name_the_key(toml: str, key: str, problem: str) -> None:
    with pytest.raises(LlmspellError) as info:
        load(f"[plugins.hooks-logging]\n{toml}\n")
    assert info.value.code == "config_error"
    assert f"plugins.hooks-logging.{key}" in info.value.message
    assert problem in info.value.message


def test_the_enabled_key_is_accepted_and_disables() -> None:
    config = llmspell.config.parse(tomllib.loads("[plugins.hooks-logging]\nenabled = false\n"))
    assert "hooks-logging" not in Kernel.load(env={}, config=config).plugins


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["api_key", "API_KEY", "apiKey", "x-api-key", "Authorization",
                                  "access_token", "refresh_token", "client_secret", "password",
                                  "db_password", "Cookie", "set-cookie", "OPENAI_API_KEY",
                                  "token", "secret", "privateKey", "csrftoken", "passwd"])
def test_secret_key_names(name: str) -> None:
    assert secret_key(name)


@pytest.mark.parametrize("name", ["max_tokens", "input_tokens", "key", "monkey", "tokens",
                                  "keyboard", "author", "name", "total_tokens", "secretary"])
def test_harmless_key_names(name: str) -> None:
    assert not secret_key(name)


@pytest.mark.parametrize(("text", "expected"), [
    ("Authorization: Bearer abc.def-ghi", f"Authorization: {REDACTED}"),
    ("curl -H 'Bearer abc.def-ghi'", f"curl -H 'Bearer {REDACTED}'"),
    ("Authorization: Basic dXNlcjpwYXNz", f"Authorization: {REDACTED}"),
    ("GET /v1?api_key=abc123&q=1", f"GET /v1?api_key={REDACTED}&q=1"),
    ('{"password": "hunter2", "n": 1}', f'{{"password": "{REDACTED}", "n": 1}}'),
    ("Config(token='t0k3n')", f"Config(token='{REDACTED}')"),
    ("max_tokens: 100", "max_tokens: 100"),
    ("key sk-ant-api03-abcdefgh12345678 end", f"key {REDACTED} end"),
    ("AIza" + "B" * 35, REDACTED),
    ("slack xoxb-123456-abcdef", f"slack {REDACTED}"),
    ("aws AKIA" + "Q" * 16, f"aws {REDACTED}"),
    ("a task-list-with-long-words", "a task-list-with-long-words"),
])
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_objects() -> None:
    @attrs.define
    class Creds:
        user: str
        api_key: str

    err = LlmspellError("provider_error", "failed with sk-" + "q" * 20, {"token": "abc"})
    out = redact({"creds": Creds("ada", "zzz"), "err": err, "blob": b"\x00" * 5, 3: (1, 2)})
    assert out == {
        "creds": {"user": "ada", "api_key": REDACTED},
        "err": {"code": "provider_error", "message": f"failed with {REDACTED}",
                "details": {"token": REDACTED}},
        "blob": "<5 bytes>",
        "3": [1, 2],
    }
    loop: list[Any] = []
    loop.append(loop)
    assert "..." in json.dumps(redact(loop))  # cycles are cut


_TEXT = st.text(alphabet="abcdefghij klmnop0123456789.,-_:/", max_size=12)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXT)
_TREE = st.recursive(
    _LEAF,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(_TEXT, children, max_size=4)),
    max_leaves=16,
)
#: secret bodies: upper case and digits, which the surrounding data never contains
_BODY = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=20, max_size=40)
_SECRET_KEYS = st.sampled_from(["api_key", "Authorization", "x-api-key", "clientSecret",
                                "password", "access_token", "Cookie", "OPENAI_API_KEY"])


@st.composite
def _shaped(draw: st.DrawFn) -> tuple[str, str]:
    """(the secret, the text that carries it)."""
    body = draw(_BODY)
    secret = draw(st.sampled_from([
        "sk-" + body, "sk-ant-api03-" + body, "AIza" + (body * 2)[:35], "ghp_" + body,
        "xoxb-" + body, "Bearer " + body,
    ]))
    text = f"{draw(_TEXT)} {secret} {draw(_TEXT)}"
    return (body if secret.startswith("Bearer") else secret), text


@st.composite
def _insert(draw: st.DrawFn, tree: Any, value: Any, as_key: str | None = None) -> Any:
    """``tree`` with ``value`` placed somewhere (or, with ``as_key``, a dict holding it under
    that key; a key itself when ``value`` is a string and the draw says so)."""
    if isinstance(tree, list) and tree and draw(st.booleans()):
        i = draw(st.integers(0, len(tree) - 1))
        return [*tree[:i], draw(_insert(tree[i], value, as_key)), *tree[i + 1:]]
    if isinstance(tree, dict) and tree and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(tree)))
        return {**tree, key: draw(_insert(tree[key], value, as_key))}
    if as_key is not None:
        holder: Any = {as_key: value}
    elif isinstance(value, str) and draw(st.booleans()):
        holder = {value: draw(_LEAF)}  # the secret as a key
    else:
        holder = value
    return [tree, holder] if draw(st.booleans()) else {"x": tree, "y": holder}


def _assert_hidden(secret: str, value: Any) -> None:
    assert secret not in json.dumps(redact(value))
    assert secret not in summarize(value, 100_000)
    assert secret not in summarize(value, 30)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), tree=_TREE, key=_SECRET_KEYS, body=_BODY,
       nest=st.sampled_from(["plain", "list", "dict"]))
def test_a_secret_under_a_secret_key_never_shows(
    data: st.DataObject, tree: Any, key: str, body: str, nest: str
) -> None:
    secret = "ZQ" + body
    value: Any = {"plain": secret, "list": [1, secret], "dict": {"inner": f"a {secret} b"}}[nest]
    _assert_hidden(secret, data.draw(_insert(tree, value, as_key=key)))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), tree=_TREE, shaped=_shaped())
def test_a_secret_of_a_known_shape_never_shows(
    data: st.DataObject, tree: Any, shaped: tuple[str, str]
) -> None:
    secret, text = shaped
    _assert_hidden(secret, data.draw(_insert(tree, text)))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), tree=_TREE, body=_BODY,
       name=st.sampled_from(["MY_SERVICE_KEY", "GITLAB_TOKEN", "APP_SECRET", "DB_PASSWORD"]))
def test_the_value_of_a_secret_environment_variable_never_shows(
    data: st.DataObject, tree: Any, body: str, name: str
) -> None:
    with mock.patch.dict(os.environ, {name: body}):
        text = f"{data.draw(_TEXT)}{body}{data.draw(_TEXT)}"  # even inside a word
        _assert_hidden(body, data.draw(_insert(tree, text)))
    assert name not in os.environ


# --- long texts -------------------------------------------------------------------------------


def test_long_texts_are_cut_before_they_are_redacted() -> None:
    """A text is cut to MAX_TEXT (its last, maybe cut, word dropped) before any expression runs,
    and the expressions are linear: texts that used to take seconds each (quadratic
    backtracking over one long word) take milliseconds. Generous bound: 5 s for all."""
    texts = ["a" * 1_000_000, "token" * 200_000, "x" * 999_990 + " api_key=abc",
             "api_key=" * 125_000, '"' * 1_000_000, "a b " * 250_000, "bearer " * 140_000]
    start = time.perf_counter()
    for text in texts:
        assert len(redact_text(text)) < 3 * MAX_TEXT  # [REDACTED] may be longer than a secret
    assert time.perf_counter() - start < 5.0
    # the expressions themselves, on a text just under the bound (no cut)
    start = time.perf_counter()
    for unit in ("a", "token", '"', "-"):
        redact_text(unit * (MAX_TEXT // len(unit)))
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("secret", ["sk-" + "A1b2C3d4" * 4, "ghp_" + "Z9" * 18])
def test_a_secret_cut_by_the_bound_does_not_leak(secret: str) -> None:
    for shift in range(1, len(secret)):
        text = "x " * ((MAX_TEXT - shift) // 2) + secret + " tail"
        out = redact_text(text)
        assert out.endswith("…")
        assert secret[:3] not in out  # not even its start, when the cut went through it
    assert bounded("short") == "short"
    assert bounded("w" * 10 + " " + "v" * 300, limit=100) == "w" * 10 + "…"  # the word goes
    assert bounded("y" * 1000, limit=300) == "y" * 44 + "…"  # a long word: 256 characters go


async def test_a_huge_error_message_is_logged_cut(caplog: pytest.LogCaptureFixture) -> None:
    async def verbose(args: dict[str, Any], ctx: Any) -> Any:
        raise RuntimeError("token" * 200_000 + " sk-" + "Q" * 30)

    kernel = load()
    start = time.perf_counter()
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError):
            await run.call_tool(Tool(name="verbose", description="x", run=verbose), {})
    assert time.perf_counter() - start < 5.0
    (record,) = ours(caplog)
    assert fields(record)["error_code"] == "tool_error"
    assert len(fields(record)["error"]) <= MAX_TEXT + 1
    assert fields(record)["error"].endswith("…")
