"""``llmspell run`` on a JavaScript spell, through the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "tasks.js"


def llmspell(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("llmspell")
    command = [str(exe)] if exe.exists() else [shutil.which("llmspell") or "llmspell"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    return subprocess.run(
        [*command, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/tasks.js is missing")
def test_run_example_spell(tmp_path):
    first = llmspell("run", str(EXAMPLE), "--project", str(tmp_path), "--", "--n", "4",
                     cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert lines[:2] == ["squares of 1..4: 1, 4, 9, 16", "slow call: stopped (timeout)"]
    assert json.loads(lines[-1]) == {"squares": [1, 4, 9, 16], "runs": 1}
    # state persists in the project's SQLite store between runs
    second = llmspell("run", str(EXAMPLE), "--project", str(tmp_path), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.strip().splitlines()[-1])["runs"] == 2


@pytest.mark.skipif(not (EXAMPLES / "events.js").exists(), reason="examples/events.js is missing")
def test_run_events_example(tmp_path):
    done = llmspell("run", str(EXAMPLES / "events.js"), "--project", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[:3] == ["HELLO EVENTS", "hello again", "ready: 42"]
    assert json.loads(lines[-1])["events"][0] == "tool.started:echo"


def test_failing_spell_names_file_and_line(tmp_path):
    spell = tmp_path / "broken.js"
    spell.write_text('print("before");\nawait Task.sleep(0);\nundefinedFunction();\n')
    done = llmspell("run", str(spell), "--project", str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert done.stdout == "before\n"
    assert "broken.js:3" in done.stderr and "undefinedFunction" in done.stderr
