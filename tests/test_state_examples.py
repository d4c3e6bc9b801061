"""``examples/state.lua`` and ``state.js`` from the command line: the notes in the ``global``
scope outlive each run (and are shared by the two languages, in the project's
``.llmspell/state.db``), ``--forget`` deletes them, and the ``spell`` scope starts empty every
run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLMSPELL = Path(sys.executable).with_name("llmspell")


def run(name: str, project: Path, *args: str) -> tuple[str, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    env["XDG_CONFIG_HOME"] = str(project / "xdg-config")  # no user configuration
    done = subprocess.run(
        [str(LLMSPELL), "run", "-q", "--project", str(project), str(ROOT / "examples" / name),
         "--", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"{name} {args}: exit {done.returncode}\n{done.stderr}"
    printed, result = done.stdout.splitlines()
    return printed, json.loads(result)


def test_state_outlives_runs_and_engines(tmp_path: Path) -> None:
    assert run("state.lua", tmp_path, "--note", "buy milk") == (
        "run 1, notes: buy milk", {"runs": 1, "notes": 1, "draft": "buy milk"}
    )
    # the JavaScript spell reads and extends what the Lua one stored; its spell scope is new
    assert run("state.js", tmp_path, "--note", "call Ada") == (
        "run 2, notes: buy milk; call Ada", {"runs": 2, "notes": 2, "draft": "call Ada"}
    )
    assert run("state.lua", tmp_path) == (
        "run 3, notes: buy milk; call Ada", {"runs": 3, "notes": 2, "draft": "(no note)"}
    )
    assert run("state.js", tmp_path, "--forget") == (
        "run 4, notes: none", {"runs": 4, "notes": 0, "draft": "(no note)"}
    )
    assert run("state.lua", tmp_path, "--forget", "--note", "again") == (
        "run 5, notes: again", {"runs": 5, "notes": 1, "draft": "again"}
    )
    assert (tmp_path / ".llmspell" / "state.db").is_file()
