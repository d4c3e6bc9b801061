"""What ``llmspell run`` of a one-line spell imports: nothing a run does not need (the cost of a
start is mostly imports). Checked on the ``-X importtime`` list of a real run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmspell import plugins

#: read only when there is something to read: a config file, a price, a file of a package;
#: importlib.metadata only when the entry-point cache is cold. (sqlite3 is imported: every run
#: is recorded in .llmspell/runs.db, see docs/runs.md)
NOT_AT_START = ("tomllib", "importlib.resources",
                # tools are imported on first use (web_search's settings are checked without it)
                "llmspell_tools_web.fetch", "llmspell_tools_web.search", "difflib")


def _imported(tmp_path: Path, spell: Path) -> set[str]:
    llmspell = Path(sys.executable).with_name("llmspell")
    if not llmspell.exists():
        pytest.skip("the llmspell console script is not installed next to this interpreter")
    # no configuration file anywhere, a private entry-point cache
    env = {**os.environ, plugins.CACHE_ENV: str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("LLMSPELL_CONFIG", None)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", str(llmspell), "run", "--project", str(tmp_path),
         str(spell)],
        capture_output=True, text=True, check=True, env=env, cwd=tmp_path,
    )
    assert out.stdout.strip() == "1", out.stdout + out.stderr
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", out.stderr, re.M))


@pytest.mark.parametrize("name, text", [("one.lua", "return 1"), ("one.js", "export default 1")])
def test_a_one_line_run_imports_only_what_it_needs(tmp_path: Path, name: str, text: str) -> None:
    spell = tmp_path / name
    spell.write_text(text)
    _imported(tmp_path, spell)  # fills the entry-point cache
    modules = _imported(tmp_path, spell)
    assert modules, "no -X importtime output"
    assert not [m for m in NOT_AT_START if m in modules]
    if list((tmp_path / "cache").glob("*.json")):  # (not written if sys.path just changed)
        assert "importlib.metadata" not in modules
        assert "email" not in modules
