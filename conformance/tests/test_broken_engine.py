"""An engine author's path: a brand-new engine package (a deliberately broken copy of the Lua
engine whose Task.all returns results in completion order) is built in a temporary folder,
installed, and run through the unchanged suite, which fails exactly the cases that depend on
Task.all's result order, with a readable diff."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmspell_conformance.cases import load_cases

UV = os.environ.get("UV") or shutil.which("uv")

PYPROJECT = """
[project]
name = "llmspell-brokenlua"
version = "0.0.1"
dependencies = ["llmspell-lua"]

[project.entry-points.llmspell]
brokenlua = "llmspell_brokenlua"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""

MODULE = '''
"""The Lua engine with a bug: Task.all returns results in completion order."""
from llmspell.lifecycle import hookimpl
from llmspell_lua.bridge import LuaEngine

# one line, so that line numbers in error messages do not move
PATCH = (
    "do local all = Task.all; Task.all = function(list) local done = {}; local wrapped = {}; "
    "for i, fn in ipairs(list) do wrapped[i] = function() local r = fn(); "
    "done[#done + 1] = r; return r end end; all(wrapped); return done end end "
)


class BrokenLua(LuaEngine):
    name = "brokenlua"

    async def run(self, source, filename, run):
        return await super().run(PATCH + source, filename, run)


@hookimpl
def llmspell_register_engines(registry):
    registry.add("brokenlua", BrokenLua())
'''


@pytest.mark.skipif(UV is None, reason="needs the uv executable")
def test_a_broken_engine_fails_exactly_the_order_dependent_cases(tmp_path: Path) -> None:
    pkg = tmp_path / "brokenlua"
    (pkg / "llmspell_brokenlua").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "llmspell_brokenlua" / "__init__.py").write_text(textwrap.dedent(MODULE))
    target = tmp_path / "site"
    subprocess.run(
        [UV or "uv", "pip", "install", "--offline", "--no-deps", "--target", str(target),
         str(pkg)],
        check=True, capture_output=True, timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    llmspell = Path(sys.executable).with_name("llmspell")
    out = subprocess.run(
        [str(llmspell), "conformance", "--engine", "brokenlua", "--json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert out.returncode == 1, out.stderr
    results = {r["case"]: r for r in json.loads(out.stdout)}
    failed = {name for name, r in results.items() if r["status"] != "pass"}
    uses_all = {
        case.name for case in load_cases() if "Task.all" in case.spells[".lua"].read_text()
    }
    assert "async_all_keeps_list_order" in failed
    assert failed <= uses_all, f"cases failing without Task.all: {sorted(failed - uses_all)}"
    reason = results["async_all_keeps_list_order"]["reasons"][0]
    assert reason == "result: expected ['a', 'b', 'c'], got ['c', 'b', 'a']"
