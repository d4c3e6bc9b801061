"""``llmspell runs`` and the recording of ``llmspell run``/``exec``: every run (Lua, JavaScript,
workflow files, snippets; failed ones too) lands in the project's run log, ``runs list|show``
show it, ``runs replay`` re-runs it from the recorded replies with zero HTTP requests (proved on
a real OpenAI-compatible loopback server), ``runs delete`` removes runs, and bad run ids are
clean errors."""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import llmspell.config
from llmspell.cli import cli
from llmspell.cli.app import CliState
from llmspell.kernel import Kernel
from llmspell.messages import ToolCall
from llmspell.runlog import EventRecord, RunInfo
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.testing.chat_server import ChatServer

# --- an OpenAI-compatible server on 127.0.0.1 that asks for one tool call ----------------------


def tool_answer(body: dict[str, Any]) -> dict[str, Any]:
    """Asks for ``shout(text="hello")``, then answers with the tool's result."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        return {"role": "assistant", "content": f"Done: {last['content']}"}
    return {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_1", "type": "function",
        "function": {"name": "shout", "arguments": '{"text": "hello"}'},
    }]}


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer(tool_answer, usage=(20, 5)) as chat:
        yield chat


pytestmark = pytest.mark.usefixtures("isolated_cwd")


def invoke(kernel: Kernel, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CliState(kernel), input=input)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def clean_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    for fragment in fragments:
        assert fragment in line, result.stderr
    return line


def runs_json(kernel: Kernel, project: Path, *extra: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        ok(invoke(kernel, "runs", "list", "--json", "--project", str(project), *extra)).stdout)
    return data


def show_json(kernel: Kernel, project: Path, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(invoke(
        kernel, "runs", "show", run_id, "--json", "--events", "--project", str(project))).stdout)
    return data


def normalized(events: list[dict[str, Any]], run_id: str) -> list[tuple[str, Any, Any]]:
    out = []
    for e in events:
        data = json.loads(json.dumps(e["data"]).replace(run_id, "<run>"))
        if isinstance(data, dict):
            data.pop("seconds", None)
        out.append((e["topic"], e["parent"], data))
    return out


LOOP_SPELL = """
Tool.define{
  name = "shout",
  description = "Upper-case a text.",
  parameters = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  run = function(a) return a.text:upper() .. "!" end,
}
local agent = Agent.create{name = "helper", model = "loop/tiny", tools = {"shout"},
                           instructions = "Use the tool."}
local result = agent:run("Shout " .. args.word)
return {text = result.text, input_tokens = result.usage.input_tokens}
"""


def loop_kernel(server: ChatServer, extra: str = "") -> Kernel:
    toml = f'[providers.loop]\nprotocol = "openai"\nbase_url = "{server.url}"\n{extra}'
    return Kernel.load(env={}, config=llmspell.config.parse(tomllib.loads(toml)))


# --- the must-show: a replay with zero HTTP requests --------------------------------------------


def test_a_replay_reproduces_a_run_with_zero_http_requests(
    server: ChatServer, tmp_path: Path
) -> None:
    kernel = loop_kernel(server)
    spell = tmp_path / "helper.lua"
    spell.write_text(LOOP_SPELL)
    project = tmp_path / "project"
    first = ok(invoke(kernel, "run", "--project", str(project), str(spell), "--word", "hello"))
    expected = {"text": "Done: \"HELLO!\"", "input_tokens": 40}
    assert json.loads(first.stdout) == expected
    assert len(server.bodies) == 2  # the model asked for the tool, then answered

    [recorded] = runs_json(kernel, project)
    assert recorded["status"] == "ok" and recorded["engine"] == "lua"
    assert recorded["name"] == str(spell) and recorded["args"] == {"word": "hello", "_": []}
    assert (recorded["input_tokens"], recorded["output_tokens"], recorded["replies"]) == (
        40, 10, 2)

    spell.write_text("error('the file changed')")  # a replay runs the recorded source
    replayed = ok(invoke(kernel, "runs", "replay", recorded["run_id"][:7], "--json",
                         "--project", str(project)))
    outcome = json.loads(replayed.stdout)
    assert len(server.bodies) == 2  # not one HTTP request more
    assert outcome["result"] == expected and outcome["same_result"] is True
    assert (outcome["calls"], outcome["diverged"], outcome["unused"]) == (2, 0, 0)
    assert outcome["replay_of"] == recorded["run_id"]

    original = show_json(kernel, project, recorded["run_id"])
    replay = show_json(kernel, project, outcome["run_id"])
    assert replay["run"]["replay_of"] == recorded["run_id"]
    assert replay["run"]["result"] == original["run"]["result"] == expected
    before = normalized(original["events"], recorded["run_id"])
    after = normalized(replay["events"], outcome["run_id"])
    assert after == before
    topics = [topic for topic, _, _ in after]
    assert topics.count("llm.request") == 2 and "tool.started" in topics

    # the plain-text summary of a replay goes to stderr, the result to stdout
    again = ok(invoke(kernel, "runs", "replay", recorded["run_id"], "--project", str(project)))
    assert json.loads(again.stdout) == expected
    assert "the same result as the recorded run" in again.stderr
    assert len(server.bodies) == 2
    assert len(runs_json(kernel, project)) == 3


# --- recording from the command line -----------------------------------------------------------


def scripted_kernel(*replies: Any, config: str = "") -> Kernel:
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider(replies))
    if config:
        kernel.config = llmspell.config.parse(tomllib.loads(config))
    return kernel


JS_SPELL = """
await Tool.define({name: "shout", description: "Shout.",
  parameters: {type: "object", properties: {text: {type: "string"}}},
  run: (a) => a.text.toUpperCase()});
const agent = await Agent.create({name: "helper", model: "scripted/x", tools: ["shout"]});
const result = await agent.run("go");
export default result.text;
"""


def tool_replies() -> list[Reply]:
    return [Reply(tool_calls=[ToolCall("c1", "shout", {"text": "hi"})]), Reply(text="HI it is")]


def test_run_and_exec_record_js_spells_and_show_their_timeline(tmp_path: Path) -> None:
    kernel = scripted_kernel(*tool_replies(), *tool_replies())
    spell = tmp_path / "helper.js"
    spell.write_text(JS_SPELL)
    ok(invoke(kernel, "run", "--project", str(tmp_path), str(spell)))
    ok(invoke(kernel, "exec", "--engine", "js", "--project", str(tmp_path), "-e", JS_SPELL))
    snippet, file_run = runs_json(kernel, tmp_path)
    assert (snippet["name"], snippet["engine"]) == ("<exec>", "js")
    assert (file_run["name"], file_run["engine"]) == (str(spell), "js")
    shown = show_json(kernel, tmp_path, snippet["run_id"])
    assert shown["run"]["source"] == JS_SPELL
    timeline = shown["timeline"]
    assert (timeline["kind"], timeline["name"], timeline["status"]) == ("spell", "<exec>", "ok")
    [agent] = timeline["children"]
    assert (agent["kind"], agent["name"], agent["status"]) == ("agent", "helper", "ok")
    assert [c["kind"] for c in agent["children"]] == ["llm", "tool", "llm"]
    llm = agent["children"][0]
    assert llm["name"] == "scripted/x" and llm["input_tokens"] >= 1 and llm["seconds"] >= 0
    assert agent["children"][1]["name"] == "shout"

    text = ok(invoke(kernel, "runs", "show", snippet["run_id"], "--project", str(tmp_path)))
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"run {snippet['run_id']}  <exec>  (js)")
    tree = lines[lines.index(next(x for x in lines if x.startswith("spell <exec>"))):]
    assert tree[1].startswith("  agent helper")
    assert tree[2].startswith("    llm scripted/x") and "tokens" in tree[2]
    assert tree[3].startswith("    tool shout")
    assert tree[4].startswith("    llm scripted/x")
    every = ok(invoke(kernel, "runs", "show", snippet["run_id"], "--events", "--project",
                      str(tmp_path)))
    assert "· tool.started" not in every.stdout  # opening events are the tree's nodes
    assert "· spell.started" not in every.stdout


def test_a_failed_run_is_recorded_and_shown(tmp_path: Path) -> None:
    kernel = scripted_kernel()
    spell = tmp_path / "broken.lua"
    spell.write_text('State.set("k", 1)\nerror("boom")')
    clean_error(invoke(kernel, "run", "--project", str(tmp_path), str(spell)), "boom")
    [run] = runs_json(kernel, tmp_path)
    assert run["status"] == "failed" and run["error"]["code"] == "script_error"
    assert "boom" in run["error"]["message"]
    shown = ok(invoke(kernel, "runs", "show", run["run_id"], "--project", str(tmp_path)))
    assert "status failed" in shown.stdout and "error script_error" in shown.stdout
    assert "spell.failed" in shown.stdout  # a failure is shown without --events
    every = ok(invoke(kernel, "runs", "show", run["run_id"], "--events", "--project",
                      str(tmp_path)))
    assert "· state.changed" in every.stdout


def test_workflow_files_are_recorded_even_when_malformed(tmp_path: Path) -> None:
    kernel = scripted_kernel(Reply(text="drafted"))
    flow = tmp_path / "flow.toml"
    flow.write_text('kind = "sequential"\n[agents.w]\nmodel = "scripted/x"\n'
                    '[[steps]]\nname = "write"\nagent = "w"\n')
    result = ok(invoke(kernel, "run", "--project", str(tmp_path), str(flow), "--", "go"))
    assert result.stdout.strip() == "drafted"
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "sideways"\n')
    clean_error(invoke(kernel, "run", "--project", str(tmp_path), str(bad)),
                "kind is not a workflow kind")
    failed, good = runs_json(kernel, tmp_path)
    assert (good["engine"], good["status"], good["result"]) == ("workflow", "ok", "drafted")
    assert (failed["name"], failed["status"]) == (str(bad), "failed")
    assert failed["error"]["code"] == "config_error"
    timeline = show_json(kernel, tmp_path, good["run_id"])["timeline"]
    [workflow] = timeline["children"]
    assert (workflow["kind"], workflow["name"]) == ("workflow", "flow")
    [step] = workflow["children"]
    assert (step["kind"], step["name"], step["status"]) == ("step", "flow/write", "ok")
    assert step["children"][0]["kind"] == "agent"


def test_record_false_in_the_config_records_nothing(tmp_path: Path) -> None:
    kernel = scripted_kernel(config="[runs]\nrecord = false\n")
    spell = tmp_path / "one.lua"
    spell.write_text("return 1")
    assert ok(invoke(kernel, "run", "--project", str(tmp_path), str(spell))).stdout == "1\n"
    assert runs_json(kernel, tmp_path) == []
    assert not (tmp_path / ".llmspell" / "runs.db").exists()


def test_keep_in_the_config_prunes_old_runs(tmp_path: Path) -> None:
    kernel = scripted_kernel(config="[runs]\nkeep = 2\n")
    spell = tmp_path / "one.lua"
    spell.write_text("return args._[1]")
    for i in range(4):
        ok(invoke(kernel, "run", "--project", str(tmp_path), str(spell), str(i)))
    assert [r["result"] for r in runs_json(kernel, tmp_path)] == ["3", "2"]


# --- list, show, delete and bad input ----------------------------------------------------------


def test_list_output_limit_and_sessions(tmp_path: Path) -> None:
    kernel = scripted_kernel()
    spell = tmp_path / "one.lua"
    spell.write_text("return 1")
    for _ in range(3):
        ok(invoke(kernel, "run", "--project", str(tmp_path), str(spell)))
    assert len(runs_json(kernel, tmp_path, "--limit", "2")) == 2
    plain = ok(invoke(kernel, "runs", "list", "--project", str(tmp_path))).stdout.splitlines()
    assert len(plain) == 3
    run_id, name, status, started, duration, tokens, cost = plain[0].split("\t")
    assert (name, status, tokens, cost) == (str(spell), "ok", "0", "")
    assert len(run_id) == 12 and started[:2] == "20" and duration.endswith("ms")
    assert runs_json(kernel, tmp_path, "--session", "nobody") == []
    clean_error(invoke(kernel, "runs", "list", "--session", "no way", "--project",
                       str(tmp_path)), "invalid session name 'no way'")
    assert runs_json(kernel, tmp_path / "empty") == []  # no log yet: nothing, no error
    assert not (tmp_path / "empty").exists()


def test_bad_run_ids_are_clean_errors(tmp_path: Path) -> None:
    kernel = scripted_kernel()
    for command in (("show",), ("replay",), ("delete",)):
        line = clean_error(invoke(kernel, "runs", *command, "nope", "--project", str(tmp_path)),
                           "no recorded run 'nope'")
        assert "runs.db" in line
    spell = tmp_path / "one.lua"
    spell.write_text("return 1")
    for _ in range(17):  # enough runs for two to share a first hex digit
        ok(invoke(kernel, "run", "--project", str(tmp_path), str(spell)))
    ids = [r["run_id"] for r in runs_json(kernel, tmp_path, "--limit", "50")]
    prefix = next(i[0] for i in ids if sum(j[0] == i[0] for j in ids) > 1)
    clean_error(invoke(kernel, "runs", "show", prefix, "--project", str(tmp_path)),
                f"run id {prefix!r} is ambiguous")
    result = invoke(kernel, "runs", "delete", "--project", str(tmp_path))
    assert result.exit_code == 2 and "Missing argument" in result.stderr


def test_delete_removes_runs(tmp_path: Path) -> None:
    kernel = scripted_kernel()
    spell = tmp_path / "one.lua"
    spell.write_text("return 1")
    for _ in range(3):
        ok(invoke(kernel, "run", "--project", str(tmp_path), str(spell)))
    first, second, third = (r["run_id"] for r in runs_json(kernel, tmp_path))
    result = ok(invoke(kernel, "runs", "delete", first, second[:8], "--project", str(tmp_path)))
    assert f"deleted 2 run(s): {first}, {second}" in result.stderr
    assert [r["run_id"] for r in runs_json(kernel, tmp_path)] == [third]
    clean_error(invoke(kernel, "runs", "show", first, "--project", str(tmp_path)),
                "no recorded run")


def test_runs_is_a_command_with_its_subcommands() -> None:
    kernel = scripted_kernel()
    assert "  runs " in ok(invoke(kernel, "--help")).stdout
    help_text = ok(invoke(kernel, "runs", "--help")).stdout
    for name in ("list", "show", "replay", "delete"):
        assert f"  {name} " in help_text


def test_the_timeline_as_a_rich_tree() -> None:
    from rich.console import Console

    from llmspell.timeline import build_timeline, render_tree

    info = RunInfo("abc", "s.lua", "lua", None, {}, "", 100.0, 101.5, "ok", None, None, 30, 7,
                   0.25, None, 6, 1)
    events = [
        EventRecord(1, "spell.started", 100.0, None, {"spell": "s.lua"}),
        EventRecord(2, "agent.started", 100.1, None, {"agent": "a"}),
        EventRecord(3, "llm.request", 100.2, 2, {"model": "p/m", "messages": 1}),
        EventRecord(4, "llm.response", 100.5, 3,
                    {"model": "p/m", "usage": {"input_tokens": 30, "output_tokens": 7,
                                               "cost": 0.25}, "seconds": 0.3}),
        EventRecord(5, "tool.started", 100.6, 2, {"tool": "t", "call_id": "c"}),
        EventRecord(6, "tool.failed", 100.7, 5,
                    {"tool": "t", "call_id": "c", "error": {"code": "tool_error",
                                                           "message": "broke"}}),
    ]
    root = build_timeline(info, events)
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system=None)
    console.print(render_tree(root))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "spell s.lua" in text and "1.50 s" in text
    assert "agent a" in text
    assert "llm p/m  30 in / 7 out tokens  $0.25  300.0 ms" in text
    assert "tool t  failed" in text and "tool_error: broke" in text
    assert "└── " in text or "├── " in text
