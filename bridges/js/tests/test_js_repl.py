"""``llmspell exec`` and ``llmspell repl`` with the JavaScript engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmspell.runtime import SpellRun
from llmspell.scripting.session import ScriptSession
from llmspell.security import Limits, SecurityPolicy
from llmspell_js import JsEngine
from llmspell_js.engine import is_complete, repl_sources

LLMSPELL = Path(sys.executable).parent / "llmspell"


def cli(*argv: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    return subprocess.run(
        [str(LLMSPELL), *argv], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
        timeout=60, check=False,
    )


@pytest.mark.parametrize(("source", "complete"), [
    ("x = 1", True),
    ("function f() {", False),
    ("function f() {\n  return 1\n}", True),
    ("[1, 2,", False),
    ("`multi", False),
    ("/* open", False),
    ("'}' + \"{\" // (", True),
    ("foo(1,", False),
    ("x +", False),
])
def test_is_complete(source, complete):
    assert is_complete(source) is complete


def test_repl_sources_keep_top_level_declarations():
    script, in_async = repl_sources("let a = 1\nconst b = 2\nclass C {}\n  let d = 3")
    assert script == "var a = 1\nvar b = 2\nvar C = class C {}\n  var d = 3"
    _, in_async = repl_sources("const r = await f()\nlet [x] = g()")
    assert in_async == "r = await f()\nlet [x] = g()"


async def test_repl_session_keeps_globals_and_survives_errors_and_limits(js):
    policy = SecurityPolicy(limits=Limits(cpu_seconds=0.3))
    async with SpellRun.open(js.kernel, name="<repl>", policy=policy) as run:
        output: list[str] = []
        session = ScriptSession(run, "<repl>", output=output.append)
        repl = JsEngine().repl(session)
        assert await repl.evaluate("let x = 20 + 1") is None
        assert await repl.evaluate("x * 2") == 42
        assert await repl.evaluate("const r = await Tool.call('echo', {text: 'hi'})") is None
        assert await repl.evaluate("r") == "hi"
        assert await repl.evaluate("Task.sleep(0.01).then(() => ({x}))") == {"x": 21}
        with pytest.raises(Exception) as info:
            await repl.evaluate("null.boom")
        assert getattr(info.value, "code", None) == "script_error"
        assert "<repl>:1" in str(info.value)
        assert await repl.evaluate("x") == 21
        with pytest.raises(Exception) as info:
            await repl.evaluate("for (;;) {}")
        assert getattr(info.value, "code", None) == "limit"
        # a fresh context after a limit
        assert await repl.evaluate("typeof x") == "undefined"
        await repl.evaluate("print('out')")
        session.close()
    assert output == ["out"]


def test_exec_runs_code_with_args(tmp_path: Path) -> None:
    out = cli("exec", "--engine", "js", "-e", "export default {n: args._.length, t: args.topic}",
              "--", "--topic", "trio", "a", "b", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"n": 2, "t": "trio"}


def test_exec_reads_standard_input_and_reports_errors_with_the_line(tmp_path: Path) -> None:
    out = cli("exec", "--engine", "js", cwd=tmp_path,
              stdin='print("one");\nthrow new Error("two");\n')
    assert out.returncode == 1
    assert out.stdout == "one\n"
    assert "<exec>:2: Error: two" in out.stderr
    assert "Traceback" not in out.stderr


def test_repl_keeps_globals_prints_values_and_survives_errors(tmp_path: Path) -> None:
    session = "\n".join([
        "let x = 20 + 1",
        "x * 2",
        "function twice(v) {",
        "  return v * 2",
        "}",
        "twice(x)",
        'throw new Error("oops")',
        'await Tool.call("calculator", {expression: "x"})',
        'await State.set("seen", x)',
        "x",
        "",
    ])
    out = cli("repl", "--engine", "js", cwd=tmp_path, stdin=session)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["42", "42", "21"]
    assert "<repl>:1: Error: oops" in out.stderr
    assert "name 'x' is not allowed" in out.stderr
    state = cli("state", "get", "seen", cwd=tmp_path)
    assert state.stdout.strip() == "21"
