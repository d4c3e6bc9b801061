"""Progress of ``llmspell run``: plain lines from the events of real runs (Lua and JS spells,
workflow files), the live status on a real pseudo-terminal, ``--quiet`` and ``--json``, and a
display that fails without failing the run."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from llmspell.cli import cli, tracking
from llmspell.cli.app import CliState
from llmspell.cli.progress import (
    LineDisplay,
    LiveDisplay,
    Tracker,
    choose_mode,
    format_summary,
)
from llmspell.events import Event
from llmspell.messages import Usage
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.testing.terminal import Terminal

SPELLS = {
    "lua": """
        Tool.define{name = "shout", description = "Upper-case a text.",
          parameters = {type = "object", properties = {text = {type = "string"}}},
          run = function(args) return args.text:upper() end}
        local researcher = Agent.create{name = "researcher", model = "scripted/m",
                                        tools = {"shout"}}
        local writer = Agent.create{name = "writer", model = "scripted/m"}
        local pipeline = Workflow.sequential{name = "pipeline", steps = {researcher, writer}}
        print("before")
        local out = pipeline:run("go").text
        print("after")
        Log.warn("careful")
        return out
    """,
    "js": """
        await Tool.define({name: "shout", description: "Upper-case a text.",
          parameters: {type: "object", properties: {text: {type: "string"}}},
          run: (args) => args.text.toUpperCase()});
        const researcher = await Agent.create({name: "researcher", model: "scripted/m",
                                               tools: ["shout"]});
        const writer = await Agent.create({name: "writer", model: "scripted/m"});
        const pipeline = await Workflow.sequential({name: "pipeline",
                                                    steps: [researcher, writer]});
        print("before");
        const out = (await pipeline.run("go")).text;
        print("after");
        await Log.warn("careful");
        export default out;
    """,
}

#: what the spells above show as plain lines (after the ``[1.2s]`` prefix)
PIPELINE_LINES = [
    "workflow pipeline started",
    "step pipeline/researcher started",
    "agent researcher started",
    "agent researcher finished (912 tokens, $0.0010)",
    "step pipeline/researcher finished (912 tokens, $0.0010)",
    "step pipeline/writer started",
    "agent writer started",
    "agent writer finished (322 tokens, $0.0002)",
    "step pipeline/writer finished (322 tokens, $0.0002)",
    "workflow pipeline finished (1,234 tokens, $0.0012)",
]
SUMMARY = re.compile(r"done in \d+\.\d s · 3 llm calls · 1,234 tokens · \$0\.0012")
PREFIX = re.compile(r"^\[(\d+\.\d)s\] (.*)$")


def pipeline_replies(delay: float = 0.0) -> list[Reply]:
    """The researcher calls ``shout``, then answers; the writer answers: 1,234 tokens, $0.0012."""
    return [
        Reply(tool_calls=[{"name": "shout", "arguments": {"text": "x"}}], delay=delay,
              usage=Usage(500, 12, 0.0006)),
        Reply(text="found", delay=delay, usage=Usage(300, 100, 0.0004)),
        Reply(text="written", delay=delay, usage=Usage(300, 22, 0.0002)),
    ]


def invoke(provider: ScriptedProvider, *args: str) -> Result:
    kernel = make_kernel(entry_points=True, provider=provider)
    return CliRunner().invoke(cli, list(args), obj=CliState(kernel))


def progress_lines(stderr: str) -> list[str]:
    """The plain progress lines of ``stderr`` without their time prefix (checked in order)."""
    out: list[str] = []
    last = 0.0
    for line in stderr.splitlines():
        match = PREFIX.match(line)
        if match:
            at = float(match.group(1))
            assert at >= last, stderr  # times never go back
            last = at
            out.append(match.group(2))
    return out


pytestmark = pytest.mark.usefixtures("isolated_cwd")


def write_spell(tmp_path: Path, lang: str, source: str | None = None) -> Path:
    spell = tmp_path / f"spell.{lang}"
    spell.write_text(textwrap.dedent(source if source is not None else SPELLS[lang]).lstrip())
    return spell


# --- plain lines ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_plain_lines_follow_agents_and_steps_of_a_real_run(tmp_path: Path, lang: str) -> None:
    spell = write_spell(tmp_path, lang)
    result = invoke(ScriptedProvider(pipeline_replies()), "run", "--progress", "--project",
                    str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "before\nafter\nwritten\n"  # prints and the result, untouched
    lines = progress_lines(result.stderr)
    assert lines[:-1] == PIPELINE_LINES
    assert SUMMARY.fullmatch(lines[-1]), lines[-1]
    # noise stays out: no line per model call or successful tool call
    assert not [line for line in lines if "llm" in line.split(" ")[0] or "tool" in line]


def test_plain_lines_report_every_failure(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua", """
        local calls = 0
        Tool.define{name = "flaky", description = "Fails.", parameters = {type = "object"},
          run = function(args) error({code = "tool_error", message = "disk on fire"}) end}
        local helper = Agent.create{name = "helper", model = {"scripted/a", "scripted/b"},
                                    tools = {"flaky"}}
        local broken = Agent.create{name = "broken", model = "scripted/c"}
        local flow = Workflow.sequential{name = "checks", steps = {
          {name = "ask", agent = helper},
          {name = "wobbly", retry = {attempts = 2}, fn = function(x)
            calls = calls + 1
            if calls < 2 then error({code = "tool_error", message = "not yet"}) end
            return x
          end},
          {name = "doomed", agent = broken, on_error = "continue"},
        }}
        return flow:run("go").data.error.code
    """)
    provider = ScriptedProvider([
        Reply(error=RuntimeError("a is down")),  # scripted/a: falls back to scripted/b
        Reply(tool_calls=[{"name": "flaky", "arguments": {}}], usage=Usage(10, 5)),
        Reply(text="done", usage=Usage(20, 3)),
        Reply(error=RuntimeError("c is down")),  # the agent 'broken' fails
    ])
    result = invoke(provider, "run", "--progress", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "provider_error\n"
    lines = progress_lines(result.stderr)
    assert lines[:-1] == [
        "workflow checks started",
        "step checks/ask started",
        "agent helper started",
        "llm scripted/a failed: model 'scripted/a' failed: RuntimeError: a is down; "
        "falling back to scripted/b",
        f"tool flaky failed: {spell}:3: disk on fire",
        "agent helper finished (38 tokens)",  # no price known: no cost
        "step checks/ask finished (38 tokens)",
        "step checks/wobbly started",
        f"step checks/wobbly attempt 1 failed: {spell}:11: not yet; retrying in 0.0 s",
        "step checks/wobbly started (attempt 2)",
        "step checks/wobbly finished",
        "step checks/doomed started",
        "agent broken started",
        "agent broken failed: model 'scripted/c' failed: RuntimeError: c is down",
        "step checks/doomed failed: model 'scripted/c' failed: RuntimeError: c is down "
        "(continuing)",
        "workflow checks finished (38 tokens)",
    ]
    assert re.fullmatch(r"done in \d+\.\d s · 2 llm calls · 38 tokens", lines[-1])


def test_a_failed_run_ends_with_a_failed_summary_and_the_error(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua", """
        local agent = Agent.create{name = "solo", model = "scripted/m"}
        agent:run("one")
        return agent:run("two").text
    """)
    provider = ScriptedProvider([Reply(text="ok", usage=Usage(7, 1, 0.5)),
                                 Reply(error=RuntimeError("gone"))])
    result = invoke(provider, "run", "--progress", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = progress_lines(result.stderr)
    assert lines[:-1] == [
        "agent solo started",
        "agent solo finished (8 tokens, $0.5000)",
        "agent solo started",
        "agent solo failed: model 'scripted/m' failed: RuntimeError: gone",
    ]
    assert re.fullmatch(r"failed after \d+\.\d s · 1 llm call · 8 tokens · \$0\.5000", lines[-1])
    assert result.stderr.splitlines()[-1].startswith("error: ")  # the error comes last


def test_parallel_branches_count_their_own_tokens(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "js", """
        const alpha = await Agent.create({name: "alpha", model: "scripted/m",
                                          instructions: "You are alpha."});
        const beta = await Agent.create({name: "beta", model: "scripted/m",
                                         instructions: "You are beta."});
        const fan = await Workflow.parallel({name: "fan", branches: {a: alpha, b: beta}});
        export default (await fan.run("go")).data;
    """)

    def answer(request: Any) -> Reply:  # both calls are in flight at once
        if any("alpha" in str(m.content) for m in request.messages):
            return Reply(text="A", delay=0.05, usage=Usage(100, 10, 0.001))
        return Reply(text="B", delay=0.05, usage=Usage(200, 20, 0.002))

    result = invoke(ScriptedProvider(default=answer), "run", "--progress", "--project",
                    str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"a": "A", "b": "B"}
    lines = progress_lines(result.stderr)
    assert "agent alpha finished (110 tokens, $0.0010)" in lines
    assert "agent beta finished (220 tokens, $0.0020)" in lines
    assert "step fan/a finished (110 tokens, $0.0010)" in lines
    assert "workflow fan finished (330 tokens, $0.0030)" in lines


def test_workflow_files_show_progress_too(tmp_path: Path) -> None:
    flow = tmp_path / "flow.toml"
    flow.write_text(textwrap.dedent("""
        kind = "sequential"
        name = "digest"
        [agents.writer]
        model = "scripted/m"
        [[steps]]
        name = "draft"
        agent = "writer"
    """))
    provider = ScriptedProvider([Reply(text="a draft", usage=Usage(40, 2, 0.25))])
    result = invoke(provider, "run", "--progress", "--project", str(tmp_path), str(flow),
                    "--", "--input", "topic")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a draft\n"
    lines = progress_lines(result.stderr)
    assert lines[:-1] == [
        "workflow digest started",
        "step digest/draft started",
        "agent writer started",
        "agent writer finished (42 tokens, $0.2500)",
        "step digest/draft finished (42 tokens, $0.2500)",
        "workflow digest finished (42 tokens, $0.2500)",
    ]
    assert re.fullmatch(r"done in \d+\.\d s · 1 llm call · 42 tokens · \$0\.2500", lines[-1])


def test_without_a_terminal_progress_is_plain_lines_unless_turned_off(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua")
    result = invoke(ScriptedProvider(pipeline_replies()), "run", "--project", str(tmp_path),
                    str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "before\nafter\nwritten\n"
    lines = progress_lines(result.stderr)
    assert lines[0] == "workflow pipeline started"
    assert lines[-1].startswith("done in ")
    result = invoke(ScriptedProvider(pipeline_replies()), "run", "--no-progress", "--project",
                    str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "before\nafter\nwritten\n"
    assert [line for line in result.stderr.splitlines() if "careful" not in line] == []


def test_a_spell_without_model_calls_adds_nothing_to_stderr(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua", "print('hi') return 1")
    result = invoke(ScriptedProvider(), "run", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hi\n1\n"
    assert result.stderr == ""


def test_quiet_and_progress_contradict_each_other(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua", "return 1")
    result = invoke(ScriptedProvider(), "run", "--quiet", "--progress", str(spell))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --quiet and --progress cannot be used together")


def test_choose_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    tty, pipe = Stream(True), Stream(False)
    assert choose_mode(None, stream=tty) == "live"
    assert choose_mode(None, stream=pipe) == "lines"
    assert choose_mode(True, stream=pipe) == "lines"
    assert choose_mode(False, stream=tty) == "off"
    assert choose_mode(None, quiet=True, stream=tty) == "off"
    assert choose_mode(None, json_output=True, stream=tty) == "off"
    assert choose_mode(True, json_output=True, stream=pipe) == "lines"
    monkeypatch.setenv("TERM", "dumb")
    assert choose_mode(None, stream=tty) == "lines"  # no redrawing on a dumb terminal


def test_summary_formats() -> None:
    assert format_summary("ok", 2.34, 3, 1234, 0.0012) == \
        "done in 2.3 s · 3 llm calls · 1,234 tokens · $0.0012"
    assert format_summary("failed", 75, 1, 10, None) == "failed after 1 min 15 s · 1 llm call · " \
        "10 tokens"
    assert format_summary("interrupted", 0.5, 0, 0, None) == "interrupted after 0.5 s"
    assert format_summary("ok", 1, 2, 5, 12.5) == "done in 1.0 s · 2 llm calls · 5 tokens · $12.50"


# --- --json -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_json_output_is_one_document_and_prints_go_to_stderr(tmp_path: Path, lang: str) -> None:
    spell = write_spell(tmp_path, lang)
    result = invoke(ScriptedProvider(pipeline_replies()), "run", "--json", "--project",
                    str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)  # exactly one document: extra data would fail
    assert re.fullmatch(r"[0-9a-f]{12}", document.pop("run_id"))
    assert document.pop("usage") | {"seconds": 0} == {
        "llm_calls": 3, "input_tokens": 1100, "output_tokens": 134, "total_tokens": 1234,
        "cost": 0.0012, "seconds": 0,
    }
    assert document == {"status": "ok", "result": "written", "error": None}
    assert result.stderr.splitlines()[:2] == ["before", "after"]  # the spell's prints
    assert not progress_lines(result.stderr)


def test_json_output_of_a_failed_run(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua", """
        print("working")
        Agent.create{name = "solo", model = "scripted/m"}:run("hi")
        error({code = "tool_error", message = "gave up"})
    """)
    provider = ScriptedProvider([Reply(text="ok", usage=Usage(3, 1, 0.01))])
    result = invoke(provider, "run", "--json", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 1  # as without --json
    document = json.loads(result.stdout)
    assert document["status"] == "failed"
    assert document["result"] is None
    assert document["error"]["code"] == "tool_error"
    assert "gave up" in document["error"]["message"]
    assert document["usage"]["llm_calls"] == 1 and document["usage"]["total_tokens"] == 4
    assert re.fullmatch(r"[0-9a-f]{12}", document["run_id"])
    lines = result.stderr.splitlines()
    assert lines[0] == "working"
    assert lines[-1].startswith("error: ") and "gave up" in lines[-1]


def test_json_output_when_the_run_never_opens(tmp_path: Path) -> None:
    result = invoke(ScriptedProvider(), "run", "--json", str(tmp_path / "missing.lua"))
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["run_id"] is None
    assert document["status"] == "failed"
    assert document["error"]["code"] == "not_found"
    assert document["usage"]["llm_calls"] == 0
    assert "does not exist" in result.stderr


def test_json_with_progress_keeps_stdout_to_the_document(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua")
    result = invoke(ScriptedProvider(pipeline_replies()), "run", "--json", "--progress",
                    "--project", str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"] == "written"
    assert progress_lines(result.stderr)[:-1] == PIPELINE_LINES


# --- the tap and the display never fail the run -----------------------------------------------


async def _run_spell(kernel: Any, tracker: Tracker, lang: str = "lua") -> Any:
    async with SpellRun.open(kernel, name=f"spell.{lang}") as run:
        run.events.tap(tracker.observe)
        run.result = await kernel.engines.get(lang).run(
            textwrap.dedent(SPELLS[lang]), f"spell.{lang}", run)
    return run.result


async def test_the_tap_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = Tracker()
    for topic, data in [
        ("agent.started", None), ("agent.finished", "x"), ("llm.response", {"usage": "x"}),
        ("workflow.step.failed", [1, 2]), ("tool.finished", {"call_id": []}),
        ("llm.response", {"usage": {"input_tokens": "1", "cost": True}}),
        ("workflow.step.retrying", {"delay": "soon"}), ("unknown.topic", object()),
    ]:
        tracker.observe(Event(topic, data, 1, time.time()))
    assert tracker.llm_calls == 2 and tracker.total_tokens == 0 and tracker.cost is None

    def broken_line(at: float, text: str) -> None:
        raise OSError("no stderr")

    def broken_handler(self: Tracker, event: Event) -> list[str]:
        raise RuntimeError("bug")

    # a failing line writer and a failing handler: the run goes on, the failures are counted
    monkeypatch.setitem(tracking._HANDLERS, "workflow.started", broken_handler)
    tracker = Tracker(on_line=broken_line)
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider(pipeline_replies()))
    assert await _run_spell(kernel, tracker) == "written"
    assert tracker.errors > 1
    assert tracker.total_tokens == 1234


class FailingTerminal(io.StringIO):
    """A terminal that breaks after ``ok_writes`` writes."""

    def __init__(self, ok_writes: int) -> None:
        super().__init__()
        self.ok_writes = ok_writes

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.ok_writes <= 0:
            raise OSError(5, "Input/output error")
        self.ok_writes -= 1
        return super().write(text)


@pytest.mark.parametrize("ok_writes", [0, 1, 3])
async def test_a_broken_display_never_fails_the_run(
    ok_writes: int, capsys: pytest.CaptureFixture[str]
) -> None:
    original = sys.stderr
    tracker = Tracker()
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider(pipeline_replies(0.3)))
    with LiveDisplay(tracker, FailingTerminal(ok_writes)) as display:
        assert await _run_spell(kernel, tracker) == "written"
        print("a line on stderr", file=sys.stderr)  # as a Log line would be
    assert display.broken
    assert sys.stderr is original  # the stand-in is gone
    assert capsys.readouterr().err == "a line on stderr\n"  # not lost


async def test_plain_lines_to_a_broken_stream_never_fail_the_run() -> None:
    tracker = Tracker()
    stream = FailingTerminal(2)
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider(pipeline_replies()))
    with LineDisplay(tracker, stream) as display:
        assert await _run_spell(kernel, tracker, "js") == "written"
    assert display.broken
    assert progress_lines(stream.getvalue()) == PIPELINE_LINES[:2]  # as far as it went


async def test_a_failing_render_shows_nothing_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tracker = Tracker()

    def broken_snapshot(limit: int = 0) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(tracker, "snapshot", broken_snapshot)
    display = LiveDisplay(tracker, io.StringIO())
    assert str(display.render()) == ""
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider(pipeline_replies()))
    assert await _run_spell(kernel, tracker, "js") == "written"


# --- on a real terminal -----------------------------------------------------------------------

PROGRAM = textwrap.dedent(
    """
    import sys
    from llmspell.cli import cli
    from llmspell.cli.app import CliState
    from llmspell.lifecycle import hookimpl
    from llmspell.messages import Usage
    from llmspell.testing import Reply, ScriptedProvider, make_kernel
    from llmspell.tools import Tool

    async def wipe(args, ctx):
        return "wiped " + args.get("what", "?")

    class P:
        @hookimpl
        def llmspell_register_tools(self, registry):
            registry.register(Tool(name="wipe", description="d", run=wipe,
                                   requires_approval=True))

    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "shout", "arguments": {"text": "x"}}], delay=0.6,
              usage=Usage(500, 12, 0.0006)),
        Reply(text="found", delay=0.6, usage=Usage(300, 100, 0.0004)),
        Reply(text="written", delay=0.6, usage=Usage(300, 22, 0.0002)),
    ])
    kernel = make_kernel(entry_points=True, provider=provider, plugins=[("p", P())])
    cli.main(sys.argv[1:], obj=CliState(kernel))
    """
)
COLUMNS = 100


def run_on_a_terminal(tmp_path: Path, *args: str, answer: bytes | None = None
                      ) -> tuple[int, str]:
    """Run the CLI with stdin, stdout and stderr on one pseudo-terminal (100 columns), answer
    its question if asked, and return the exit code and the raw output."""
    script = tmp_path / "cli_on_tty.py"
    script.write_text(PROGRAM)
    env = {**os.environ, "TERM": "xterm-256color"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "COLUMNS",
                 "LINES"):
        env.pop(name, None)
    terminal = Terminal.start([sys.executable, script, *args], cwd=tmp_path, env=env,
                              columns=COLUMNS, rows=40)
    if answer is not None:
        terminal.read_until("[y/N]", timeout=90)
        terminal.type(answer)
    code = terminal.wait(timeout=90)
    return code, terminal.output


def screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: enough of one to follow rich's live display (text,
    CR/LF, cursor up/down/column, erase line; colours and cursor visibility ignored)."""
    rows: dict[int, list[str]] = {}
    row = col = 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\x1b":
            match = re.match(r"\x1b\[\??([0-9;]*)([A-Za-z])", raw[i:])
            if match is None:
                i += 1
                continue
            param, command = match.groups()
            n = int(param) if param.isdigit() else 1
            if command == "A":
                row = max(0, row - n)
            elif command == "B":
                row += n
            elif command == "G":
                col = n - 1
            elif command == "K":
                line = rows.setdefault(row, [])
                if param == "2":
                    line.clear()
                elif param in ("", "0"):
                    del line[col:]
            i += len(match.group(0))
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
        else:
            line = rows.setdefault(row, [])
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    lines = ["".join(rows.get(r, [])).rstrip() for r in range(max(rows, default=-1) + 1)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_a_terminal_shows_a_live_status_that_leaves_only_the_summary(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua")
    code, raw = run_on_a_terminal(tmp_path, "run", "--project", str(tmp_path), str(spell))
    assert code == 0, raw
    # while it ran: the status showed the running agent, its step and the model call
    assert "agent researcher" in raw and "step researcher" in raw and "llm scripted/m" in raw
    assert "1 llm call · 512 tokens · $0.0006" in raw  # totals as they grow
    shown = screen(raw)
    careful = [line for line in shown if "careful" in line]
    assert len(careful) == 1
    # afterwards: the prints, the Log line and the result, intact and in order, one summary
    # line, and nothing of the status
    assert shown[:2] == ["before", "after"]
    assert shown[2] == careful[0]
    assert SUMMARY.fullmatch(shown[3]), shown
    assert shown[4:] == ["written"]


def test_the_status_steps_aside_for_an_approval_question(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "lua", """
        local agent = Agent.create{name = "researcher", model = "scripted/m"}
        print(agent:run("go").text)  -- a tool call, then 'found'
        return Tool.call("wipe", {what = "disk"})
    """)
    spell_source = spell.read_text().replace(
        'model = "scripted/m"}',
        'model = "scripted/m", tools = {"shout"}}')
    spell.write_text('Tool.define{name = "shout", description = "d", parameters = '
                     '{type = "object"}, run = function(a) return "X" end}\n' + spell_source)
    code, raw = run_on_a_terminal(tmp_path, "run", "--project", str(tmp_path), str(spell),
                                  answer=b"y\n")
    assert code == 0, raw
    assert "agent researcher" in raw
    shown = screen(raw)
    assert shown[0] == "found"
    assert shown[1].startswith("Allow tool 'wipe' to run with") and '"what": "disk"' in shown[1]
    assert re.fullmatch(r"done in \d+\.\d s · 2 llm calls · 912 tokens · \$0\.0010", shown[2])
    assert shown[3:] == ["wiped disk"]


def test_quiet_on_a_terminal_prints_nothing_extra(tmp_path: Path) -> None:
    spell = write_spell(tmp_path, "js")
    code, raw = run_on_a_terminal(tmp_path, "run", "-q", "--project", str(tmp_path), str(spell))
    assert code == 0, raw
    assert "agent researcher" not in raw and "llm call" not in raw
    assert "\x1b[?25l" not in raw  # no live display was ever started
    shown = screen(raw)
    assert shown[:2] == ["before", "after"]
    assert "careful" in shown[2]
    assert shown[3:] == ["written"]


FAILING_TOOL = """
    Tool.define{name = "flaky", description = "Fails.", parameters = {type = "object"},
      run = function(args) error({code = "tool_error", message = "disk on fire"}) end}
    local ok, err = pcall(Tool.call, "flaky", {})
    Log.warn("handled " .. err.code)
    return 1
"""


@pytest.mark.parametrize("options, progress_line, log_line", [
    ((), True, False),  # progress reports the failure: hooks-logging's record is not repeated
    (("-q",), False, False),  # quiet: only the run's own error would appear
    (("--no-progress",), False, True),  # nothing else reports it: the log record does
])
def test_a_failed_operation_is_reported_once_on_stderr(
    tmp_path: Path, options: tuple[str, ...], progress_line: bool, log_line: bool,
) -> None:
    spell = write_spell(tmp_path, "lua", FAILING_TOOL)
    result = subprocess.run(
        [sys.executable, "-c", "from llmspell.cli import main; main()", "run", *options,
         "--project", str(tmp_path), str(spell)], capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"
    assert "handled tool_error" in result.stderr  # the spell's own Log line always shows
    assert ("tool flaky failed: " in result.stderr) is progress_line
    assert ("ERROR llmspell.tool: tool_call 'flaky' failed" in result.stderr) is log_line
