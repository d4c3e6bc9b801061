"""`llmspell exec` and `llmspell repl` with the Lua engine, through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LLMSPELL = Path(sys.executable).parent / "llmspell"


def cli(*argv: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    return subprocess.run(
        [str(LLMSPELL), *argv], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
        timeout=60, check=False,
    )


def test_exec_runs_code_with_args_and_prints_the_result(tmp_path: Path) -> None:
    out = cli("exec", "--engine", "lua", "-e", "return {n = #args._, topic = args.topic}",
              "--", "--topic", "trio", "a", "b", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"n": 2, "topic": "trio"}


def test_exec_reads_standard_input_and_reports_errors_with_the_line(tmp_path: Path) -> None:
    out = cli("exec", "--engine", "lua", cwd=tmp_path, stdin='print("one")\nerror("two")\n')
    assert out.returncode == 1
    assert out.stdout == "one\n"
    assert "<exec>:2: two" in out.stderr
    assert "Traceback" not in out.stderr


def test_repl_keeps_globals_prints_values_and_survives_errors(tmp_path: Path) -> None:
    session = "\n".join([
        "x = 20 + 1",
        "x * 2",
        "function twice(v)",
        "  return v * 2",
        "end",
        "twice(x)",
        'error("oops")',
        'Tool.call("calculator", {expression = "x"})',
        'State.set("seen", x)',
        "x",
        "",
    ])
    out = cli("repl", "--engine", "lua", cwd=tmp_path, stdin=session)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["42", "42", "21"]
    assert "<repl>:1: oops" in out.stderr
    assert "name 'x' is not allowed" in out.stderr  # the tool error, reported, not fatal
    state = cli("state", "get", "seen", cwd=tmp_path)
    assert state.stdout.strip() == "21"


def test_repl_of_an_unknown_engine_names_the_known_ones(tmp_path: Path) -> None:
    out = cli("repl", "--engine", "cobol", cwd=tmp_path)
    assert out.returncode == 1
    assert "no engine 'cobol'" in out.stderr and "'lua'" in out.stderr
