"""The plugin registers the engine through its entry point; `llmspell run` runs Lua spells."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmspell.engines import Engine, engine_for
from llmspell.kernel import Kernel
from llmspell_lua.bridge import LuaEngine

ROOT = Path(__file__).resolve().parents[3]
LLMSPELL = Path(sys.executable).parent / "llmspell"


def test_entry_point_registers_the_lua_engine():
    kernel = Kernel.load(entry_points=True)
    engine = kernel.engines.get("lua")
    assert isinstance(engine.load(), LuaEngine)
    assert isinstance(engine, Engine)
    assert engine.extensions == (".lua",)
    assert engine_for(kernel.engines, "x/spell.LUA") is engine


def run_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    return subprocess.run(
        [str(LLMSPELL), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(not LLMSPELL.exists(), reason="the llmspell script is not installed")
def test_cli_runs_the_tasks_example(tmp_path):
    example = ROOT / "examples" / "tasks.lua"
    first = run_cli("run", str(example), "--project", str(tmp_path), "--", "--n", "4", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "squares of 1..4: 1, 4, 9, 16"
    assert lines[1] == "slow call: stopped (timeout)"
    assert json.loads(lines[2]) == {"squares": [1, 4, 9, 16], "runs": 1}
    second = run_cli("run", str(example), "--project", str(tmp_path), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.splitlines()[-1]) == {"squares": [1, 4, 9], "runs": 2}


@pytest.mark.skipif(not LLMSPELL.exists(), reason="the llmspell script is not installed")
def test_cli_reports_script_errors_on_stderr_with_file_and_line(tmp_path):
    spell = tmp_path / "bad.lua"
    spell.write_text('print("before")\nlocal x = nil\nreturn x.y\n', encoding="utf-8")
    out = run_cli("run", str(spell), "--project", str(tmp_path), cwd=tmp_path)
    assert out.returncode != 0
    assert out.stdout == "before\n"
    assert f"{spell}:3: attempt to index a nil value" in out.stderr


async def test_examples_without_a_model_run(spell):
    tools_core = pytest.importorskip("llmspell_tools_core.plugin")
    spell.kernel.register_plugin(tools_core, "tools-core")
    for name in ("tasks.lua", "events.lua"):
        source = (ROOT / "examples" / name).read_text(encoding="utf-8")
        await spell.run(source, filename=f"examples/{name}", args={"n": "2"})
    assert "HELLO EVENTS" in spell.output


async def test_agent_example_with_the_scripted_provider(spell, monkeypatch):
    monkeypatch.setenv("LLMSPELL_MODEL", "scripted/x")
    spell.provider.add(
        {"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo"}}]},
        "It snows in Oslo.",
    )
    source = (ROOT / "examples" / "agent_tools.lua").read_text(encoding="utf-8")
    result = await spell.run(source, args={"city": "Oslo"})
    assert spell.output == ["It snows in Oslo."]
    assert result == {"tool_calls": 1}
    assert "snow, -3 C" in spell.provider.requests[1].messages[-1].content
