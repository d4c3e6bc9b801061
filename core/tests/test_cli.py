"""The ``llmspell`` command line, in process (click's runner on a kernel built for the test) and
as the real console script in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from llmspell import __version__
from llmspell.cli import cli
from llmspell.cli.app import CliState
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import hookimpl
from llmspell.registry import Registry
from llmspell.tools import ToolContext, ToolRegistry, tool

# --- a test plugin: tools and a tiny engine ---------------------------------------------------


@tool(
    name="add",
    description="Add two integers.\nSecond line of the description.",
    category="math",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
    example={"a": 1, "b": 2},
)
async def add(args: dict[str, Any], ctx: ToolContext) -> dict[str, int]:
    return {"sum": args["a"] + args["b"]}


@tool(name="hello", description="Say hello.", category="text")
async def hello(args: dict[str, Any], ctx: ToolContext) -> str:
    return "hello there"


@tool(name="spawner", description="Pretends to run a process.", permissions={"process"})
async def spawner(args: dict[str, Any], ctx: ToolContext) -> str:
    return "spawned"


@tool(name="dangerous", description="Needs a human's approval.", requires_approval=True)
async def dangerous(args: dict[str, Any], ctx: ToolContext) -> str:
    return "done"


@tool(name="crasher", description="Always fails.")
async def crasher(args: dict[str, Any], ctx: ToolContext) -> str:
    raise ValueError("disk on fire")


class TinyEngine:
    """Runs ``.txt`` spells: the result echoes the source and the spell's arguments; a source
    starting with ``fail`` raises a script error; ``store KEY`` writes the source to state."""

    name = "tiny"
    extensions = (".txt",)

    async def run(self, source: str, filename: str, run: Any) -> Any:
        text = source.strip()
        if text.startswith("fail"):
            raise LlmspellError("script_error", f"{filename}:1: spell failed on purpose")
        if text.startswith("store "):
            await run.state_set(text.split()[1], {"from": filename})
            return None
        if text.startswith("say "):
            return text[4:]
        return {"echo": text, "args": run.args}


class TestPlugin:
    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        for t in (add, hello, spawner, dangerous, crasher):
            registry.register(t)

    @hookimpl
    def llmspell_register_engines(self, registry: Registry[Any]) -> None:
        registry.add("tiny", TinyEngine())


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test from an empty directory, so a command that misses ``--project`` never
    writes state into the checkout."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("LLMSPELL_PROJECT", raising=False)


@pytest.fixture
def kernel() -> Kernel:
    from llmspell.testing import make_kernel

    return make_kernel(plugins=[("test-plugin", TestPlugin())])


def invoke(kernel: Kernel, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CliState(kernel))


def assert_clean_error(result: Result, *fragments: str) -> list[str]:
    """Exit 1, nothing on stdout, one ``error:`` line on stderr containing ``fragments``, and
    no traceback. Returns the stderr lines."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)
    return lines


# --- version and help -------------------------------------------------------------------------


def test_version_command_and_option(kernel: Kernel) -> None:
    result = invoke(kernel, "version")
    assert result.exit_code == 0
    assert result.stdout == f"{__version__}\n"
    result = invoke(kernel, "--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_kernel_commands(kernel: Kernel, flag: str) -> None:
    result = invoke(kernel, flag)
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    for name in ("run", "plugins", "tools", "state", "version"):
        assert f"  {name} " in commands


def test_tools_help_lists_subcommands(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "--help")
    assert result.exit_code == 0
    for name in ("list", "info", "call"):
        assert f"  {name} " in result.stdout


# --- plugins ----------------------------------------------------------------------------------


class RaisingPlugin:
    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        raise RuntimeError("no config")


def test_plugins_json_in_process() -> None:
    from llmspell.testing import make_kernel

    kernel = make_kernel(plugins=[("test-plugin", TestPlugin()), ("raiser", RaisingPlugin())])
    result = invoke(kernel, "plugins", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["test-plugin"] == {
        "name": "test-plugin",
        "package": "",
        "version": "",
        "hooks": ["llmspell_register_engines", "llmspell_register_tools"],
        "components": {
            "tools": ["add", "crasher", "dangerous", "hello", "spawner"],
            "engines": ["tiny"],
        },
    }
    [failure] = data["failures"]
    assert failure["name"] == "raiser"
    assert "llmspell_register_tools failed: RuntimeError: no config" in failure["error"]

    table = invoke(kernel, "plugins")
    assert table.exit_code == 0
    assert "test-plugin" in table.stdout
    assert "failed:" in table.stdout and "raiser" in table.stdout


# --- tools ------------------------------------------------------------------------------------


def test_tools_list_json(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "list", "--json")
    assert result.exit_code == 0, result.stderr
    listed = {t["name"]: t for t in json.loads(result.stdout)}
    assert set(listed) == {"add", "hello", "spawner", "dangerous", "crasher"}
    assert listed["add"] == {
        "name": "add",
        "description": "Add two integers.\nSecond line of the description.",
        "parameters": add.parameters,
        "category": "math",
        "permissions": [],
        "requires_approval": False,
        "example": {"a": 1, "b": 2},
        "plugin": "test-plugin",
    }
    assert listed["spawner"]["permissions"] == ["process"]
    assert listed["dangerous"]["requires_approval"] is True


def test_tools_list_category_filter(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "list", "--json", "--category", "math")
    assert [t["name"] for t in json.loads(result.stdout)] == ["add"]


def test_tools_list_table(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "list")
    assert result.exit_code == 0
    assert "add" in result.stdout
    assert "Add two integers." in result.stdout
    assert "Second line" not in result.stdout  # only the summary line
    assert "test-plugin" in result.stdout


def test_tools_info_json(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "info", "add", "--json")
    assert result.exit_code == 0, result.stderr
    spec = json.loads(result.stdout)
    assert spec == {**add.spec(), "plugin": "test-plugin"}


def test_tools_info_text(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "info", "add")
    assert result.exit_code == 0
    assert result.stdout.startswith("add  (math, from test-plugin)\n")
    assert '"required"' in result.stdout
    assert 'example: llmspell tools call add \'{"a": 1, "b": 2}\'' in result.stdout
    spawner_info = invoke(kernel, "tools", "info", "spawner").stdout
    assert "permissions: process" in spawner_info
    assert "requires approval" in invoke(kernel, "tools", "info", "dangerous").stdout


def test_tools_info_unknown_tool_suggests(kernel: Kernel) -> None:
    assert_clean_error(invoke(kernel, "tools", "info", "ad"), "no tool 'ad'", "did you mean 'add'?")


def test_error_messages_are_printed_verbatim_not_as_markup(kernel: Kernel) -> None:
    assert_clean_error(invoke(kernel, "tools", "info", "[bold]x"), "no tool '[bold]x'")


def test_tools_call_prints_json_result(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "add", '{"a": 2, "b": 40}')
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"sum": 42}
    assert result.stderr == ""


def test_tools_call_prints_string_result_as_is_with_default_args(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "hello")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hello there\n"


def test_tools_call_invalid_json(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "add", "{a: 1}")
    lines = assert_clean_error(result, "ARGS_JSON", "not valid JSON", "{a: 1}")
    hints = [line for line in lines if line.startswith("hint:")]
    assert len(hints) == 1
    assert len(lines) == 2


def test_tools_call_args_failing_schema_name_the_argument(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "add", '{"a": 1, "b": "two"}')
    assert_clean_error(result, "tool 'add'", "argument 'b'", "'two' is not of type 'integer'")


def test_tools_call_missing_required_argument(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "add", '{"a": 1}')
    assert_clean_error(result, "tool 'add'", "'b' is a required property")


def test_tools_call_args_not_an_object(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "add", "[1, 2]")
    assert_clean_error(result, "tool 'add'", "arguments must be an object")


def test_tools_call_unknown_tool_suggests(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "helo", "{}")
    assert_clean_error(result, "no tool 'helo'", "did you mean 'hello'?")


def test_tools_call_process_tool_needs_allow_process(kernel: Kernel) -> None:
    refused = invoke(kernel, "tools", "call", "spawner")
    lines = assert_clean_error(refused, "tool 'spawner'", "permission 'process'")
    assert any(line.startswith("hint:") for line in lines)

    allowed = invoke(kernel, "tools", "call", "spawner", "--allow-process")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout == "spawned\n"


def test_tools_call_approval_needs_yes(kernel: Kernel) -> None:
    refused = invoke(kernel, "tools", "call", "dangerous")
    assert_clean_error(refused, "tool 'dangerous'", "approval")
    approved = invoke(kernel, "tools", "call", "dangerous", "{}", "--yes")
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout == "done\n"


def test_tools_call_failing_tool_is_tool_error(kernel: Kernel) -> None:
    result = invoke(kernel, "tools", "call", "crasher")
    assert_clean_error(result, "tool 'crasher' failed", "ValueError: disk on fire")


# --- state ------------------------------------------------------------------------------------


def test_state_round_trip_in_project_sqlite(kernel: Kernel, tmp_path: Path) -> None:
    project = str(tmp_path)
    value = {"n": 1, "items": [1, None, "x"], "empty": {}, "nested": {"ok": True}}

    result = invoke(kernel, "state", "set", "config", json.dumps(value), "--project", project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert invoke(kernel, "state", "set", "count", "7", "--project", project).exit_code == 0
    assert (
        invoke(
            kernel, "state", "set", "who", '"ada"', "--scope", "session:s1", "--project", project
        ).exit_code
        == 0
    )

    db = tmp_path / ".llmspell" / "state.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:  # a real SQLite database
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    got = invoke(kernel, "state", "get", "config", "--project", project)
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout) == value
    assert json.loads(invoke(kernel, "state", "get", "count", "--project", project).stdout) == 7
    who = invoke(kernel, "state", "get", "who", "--scope", "session:s1", "--project", project)
    assert json.loads(who.stdout) == "ada"

    listed = invoke(kernel, "state", "list", "--json", "--project", project)
    assert json.loads(listed.stdout) == {"global": ["config", "count"], "session:s1": ["who"]}
    one = invoke(kernel, "state", "list", "--json", "--scope", "session:s1", "--project", project)
    assert json.loads(one.stdout) == {"session:s1": ["who"]}
    text = invoke(kernel, "state", "list", "--project", project)
    assert "global: config, count" in text.stdout

    cleared = invoke(kernel, "state", "clear", "--project", project)
    assert cleared.exit_code == 0, cleared.stderr
    assert cleared.stdout == ""
    assert "removed 2 key(s) from global" in cleared.stderr
    after = invoke(kernel, "state", "list", "--json", "--project", project)
    assert json.loads(after.stdout).get("global", []) == []
    assert json.loads(after.stdout)["session:s1"] == ["who"]
    assert invoke(kernel, "state", "get", "config", "--project", project).exit_code == 1


def test_state_overwrite_keeps_latest(kernel: Kernel, tmp_path: Path) -> None:
    for v in ("1", "2", '"three"'):
        invoke(kernel, "state", "set", "k", v, "--project", str(tmp_path))
    got = invoke(kernel, "state", "get", "k", "--project", str(tmp_path))
    assert json.loads(got.stdout) == "three"


def test_state_get_missing_key_exits_1(kernel: Kernel, tmp_path: Path) -> None:
    result = invoke(kernel, "state", "get", "nope", "--project", str(tmp_path))
    assert_clean_error(result, "no state key 'nope'", "'global'")


def test_state_scope_spell_is_refused(kernel: Kernel, tmp_path: Path) -> None:
    for args in (
        ("state", "set", "k", "1", "--scope", "spell"),
        ("state", "get", "k", "--scope", "spell"),
        ("state", "clear", "--scope", "spell"),
        ("state", "list", "--scope", "spell"),
    ):
        result = invoke(kernel, *args, "--project", str(tmp_path))
        assert_clean_error(result, "scope 'spell'", "persistent")


def test_state_invalid_scope_is_refused(kernel: Kernel, tmp_path: Path) -> None:
    result = invoke(
        kernel, "state", "set", "k", "1", "--scope", "sesion:x", "--project", str(tmp_path)
    )
    assert_clean_error(result, "invalid state scope 'sesion:x'")


def test_state_invalid_json_value_is_refused_and_loses_nothing(
    kernel: Kernel, tmp_path: Path
) -> None:
    project = str(tmp_path)
    invoke(kernel, "state", "set", "k", "[1, 2]", "--project", project)
    result = invoke(kernel, "state", "set", "k", "{oops", "--project", project)
    lines = assert_clean_error(result, "VALUE_JSON", "not valid JSON")
    assert any(line.startswith("hint:") for line in lines)
    assert json.loads(invoke(kernel, "state", "get", "k", "--project", project).stdout) == [1, 2]


# --- run --------------------------------------------------------------------------------------


def test_run_lua_without_lua_engine_names_the_package(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "hello.lua"
    spell.write_text('print("hi")\n')
    result = invoke(kernel, "run", str(spell))
    lines = assert_clean_error(result, "llmspell-lua", ".lua")
    assert any(line.startswith("hint:") and "llmspell-lua" in line for line in lines)


def test_run_unknown_extension_suggests_engine_option(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "spell.xyz"
    spell.write_text("x")
    lines = assert_clean_error(invoke(kernel, "run", str(spell)), ".xyz")
    assert any("--engine" in line for line in lines if line.startswith("hint:"))


def test_run_missing_file_is_not_found_naming_it(kernel: Kernel, tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = invoke(kernel, "run", "--project", str(tmp_path), str(missing))
    assert_clean_error(result, "spell file", str(missing), "does not exist")


def test_run_prints_json_result_and_parses_args(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "spell.txt"
    spell.write_text("  echo me  \n")
    result = invoke(
        kernel,
        "run",
        "--project",
        str(tmp_path),
        str(spell),
        "--",
        "--topic",
        "rust async",
        "x",
        "--verbose",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "echo": "echo me",
        "args": {"topic": "rust async", "verbose": True, "_": ["x"]},
    }
    assert result.stdout.count("\n") == 1  # one JSON document on one line


def test_run_args_without_double_dash_and_equals_form(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "spell.txt"
    spell.write_text("hi")
    result = invoke(
        kernel, "run", "--project", str(tmp_path), str(spell), "--n=3", "a", "b", "--flag"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["args"] == {"n": "3", "flag": True, "_": ["a", "b"]}


def test_run_string_result_printed_as_is_and_none_prints_nothing(
    kernel: Kernel, tmp_path: Path
) -> None:
    spell = tmp_path / "say.txt"
    spell.write_text("say plain text")
    result = invoke(kernel, "run", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "plain text\n"

    spell.write_text("store key1")
    result = invoke(kernel, "run", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


def test_run_writes_project_state_that_state_get_reads(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "store.txt"
    spell.write_text("store written_by_spell")
    assert invoke(kernel, "run", "--project", str(tmp_path), str(spell)).exit_code == 0
    assert (tmp_path / ".llmspell" / "state.db").is_file()
    got = invoke(kernel, "state", "get", "written_by_spell", "--project", str(tmp_path))
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout) == {"from": str(spell)}
    # nothing leaked into the working directory
    assert not (Path.cwd() / ".llmspell").exists()


def test_run_options_after_spell_belong_to_the_spell(kernel: Kernel, tmp_path: Path) -> None:
    """Documented: everything after SPELL reaches the spell, llmspell options included."""
    spell = tmp_path / "spell.txt"
    spell.write_text("hi")
    result = invoke(
        kernel, "run", "--project", str(tmp_path), str(spell), "--engine", "lua", "--allow-process"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["args"] == {"engine": "lua", "allow-process": True, "_": []}


def test_run_script_error_goes_to_stderr_stdout_clean(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "bad.txt"
    spell.write_text("fail now")
    result = invoke(kernel, "run", "--project", str(tmp_path), str(spell))
    assert_clean_error(result, f"{spell}:1", "spell failed on purpose")


def test_run_engine_option_overrides_extension(kernel: Kernel, tmp_path: Path) -> None:
    spell = tmp_path / "spell.lua"
    spell.write_text("say from tiny")
    result = invoke(kernel, "run", "--engine", "tiny", "--project", str(tmp_path), str(spell))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "from tiny\n"
    unknown = invoke(kernel, "run", "--engine", "tinee", str(spell))
    assert_clean_error(unknown, "no engine 'tinee'", "did you mean 'tiny'?")


# --- the real console script ------------------------------------------------------------------


def _console(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "llmspell"
    cmd = (
        [str(script)]
        if script.is_file()
        else [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'llmspell'; from llmspell.cli import main; main()",
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_console_script_version_and_state(tmp_path: Path) -> None:
    proc = _console("version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{__version__}\n"

    proc = _console(
        "state", "set", "greeting", '{"text": "hi"}', "--project", str(tmp_path), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    # a second process (and the project found from the working directory) sees the value
    proc = _console("state", "get", "greeting", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"text": "hi"}


def test_console_script_errors_on_stderr_only(tmp_path: Path) -> None:
    proc = _console("tools", "call", "ecko", "{}", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: no tool 'ecko'; did you mean 'echo'?")
    assert "Traceback" not in proc.stderr

    proc = _console("tools", "call", "echo", "{not json", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: ARGS_JSON is not valid JSON")
    assert lines[1].startswith("hint:")
    assert len(lines) == 2


def test_allow_command_grants_the_process_permission(kernel: Kernel) -> None:
    allowed = invoke(kernel, "tools", "call", "spawner", "--allow-command", "git")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout == "spawned\n"


def test_tools_docs_renders_every_tool_with_its_examples(kernel: Kernel, tmp_path: Path) -> None:
    printed = invoke(kernel, "tools", "docs")
    assert printed.exit_code == 0, printed.stderr
    text = printed.stdout
    assert text.startswith("# Tool reference\n")
    assert "5 tools in 3 categories." in text
    for name in ("add", "hello", "spawner", "dangerous", "crasher"):
        assert f"### `{name}`" in text
    assert "llmspell tools call add '{\"a\": 1, \"b\": 2}'" in text
    assert 'local result = Tool.call("add", {a = 1, b = 2})' in text
    assert 'const result = await Tool.call("add", {"a": 1, "b": 2});' in text
    assert "| `a` | integer | yes |" in text
    assert "permissions: `process`" in text and "**needs approval**" in text

    out = tmp_path / "tools.md"
    assert invoke(kernel, "tools", "docs", "--output", str(out)).exit_code == 0
    assert out.read_text() == text
    assert invoke(kernel, "tools", "docs", "--output", str(out), "--check").exit_code == 0
    out.write_text(text.replace("Add two integers.", "Add two numbers."))
    stale = invoke(kernel, "tools", "docs", "--output", str(out), "--check")
    assert stale.exit_code == 1
    assert "is out of date; run: llmspell tools docs --output" in stale.stderr


def test_require_approval_makes_a_tool_ask(kernel: Kernel) -> None:
    assert invoke(kernel, "tools", "call", "hello").stdout == "hello there\n"
    refused = invoke(kernel, "tools", "call", "hello", "--require-approval", "hello")
    assert_clean_error(refused, "tool 'hello' needs approval, and there is no terminal")
    approved = invoke(kernel, "tools", "call", "hello", "--require-approval", "hello", "--yes")
    assert approved.stdout == "hello there\n"


def test_start_up_runs_without_the_garbage_collector_and_the_command_with_it(
    tmp_path: Path,
) -> None:
    # the collector is off while the kernel and the plugins load, back on before the command
    # runs, and on after the command line returns
    spell = tmp_path / "one.lua"
    spell.write_text("return 1")
    code = (
        "import gc, sys\n"
        "import llmspell.cli.app as app\n"
        "from llmspell.kernel import Kernel\n"
        "seen = {}\n"
        "load = Kernel.load.__func__\n"
        "def loading(cls, **kw):\n"
        "    seen['loading'] = gc.isenabled()\n"
        "    return load(cls, **kw)\n"
        "Kernel.load = classmethod(loading)\n"
        "run_async = app.run_async\n"
        "def running(fn):\n"
        "    seen['command'] = gc.isenabled()\n"
        "    return run_async(fn)\n"
        "app.run_async = running\n"
        "import llmspell.cli.run_cmd as run_cmd\n"
        "run_cmd.run_async = running\n"
        f"sys.argv = ['llmspell', 'run', '--project', {str(tmp_path)!r}, {str(spell)!r}]\n"
        "try:\n"
        "    app.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(seen['loading'], seen['command'], gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.split() == ["1", "False", "True", "True"], out.stdout + out.stderr


def test_hook_flags_are_read_before_the_command_name() -> None:
    from llmspell.cli.app import hook_flags

    assert hook_flags(["--hook", "cache", "--no-hook=logging", "--hook=hooks-otel", "run",
                       "x.lua", "--hook", "ignored"]) == (
        ("hooks-cache", "hooks-otel"), ("hooks-logging",))
    assert hook_flags(["run", "--hook", "cache"]) == ((), ())


def test_a_hook_flag_naming_nothing_installed_is_a_clear_error(tmp_path: Path) -> None:
    proc = _console("--hook", "definitely-not-a-hook", "tools", "list", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no hook plugin 'definitely-not-a-hook'")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_hook_flags_after_a_loaded_kernel_are_refused(kernel: Kernel) -> None:
    result = invoke(kernel, "--hook", "cache", "tools", "list")
    assert_clean_error(result, "--hook/--no-hook must come before the command name")


# --- llmspell api ----------------------------------------------------------------------------


def test_api_prints_the_whole_host_operation_table(kernel: Kernel) -> None:
    from llmspell.scripting import HOST_OPS

    out = CliRunner().invoke(cli, ["api", "--json"], obj=CliState(kernel))
    assert out.exit_code == 0, out.output
    table = json.loads(out.output)
    assert [op["name"] for op in table] == sorted(HOST_OPS)
    for op in table:
        hop = HOST_OPS[op["name"]]
        assert op["waits"] is hop.waits and op["doc"]
        assert [(p["name"], p["kind"], p["optional"]) for p in op["params"]] == [
            (p.name, p.kind, p.optional) for p in hop.params
        ]
    # the globals of the spell API every engine binds, by their operations' prefix
    assert {op["name"].split(".")[0] for op in table} >= {
        "tool", "agent", "workflow", "state", "event", "hook", "task", "log", "print", "artifact"
    }
    ops = {op["name"]: op for op in table}
    assert [p["name"] for p in ops["state.get"]["params"]] == ["key", "scope"]
    assert ops["task.sleep"]["waits"] and not ops["task.spawn"]["waits"]

    text = CliRunner().invoke(cli, ["api"], obj=CliState(kernel))
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert "state.get(key: string, scope?: string)" in lines
    assert "task.spawn(fn: function)  [immediate]" in lines
    assert "task.sleep(seconds: number)" in lines
    signatures = [line for line in lines if not line.startswith("    ")]
    assert len(signatures) == len(table)
