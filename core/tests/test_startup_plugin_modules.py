"""What the default plugins import when the kernel loads for ``llmspell run`` of a one-line
spell: their registration hooks, not the modules that only a lookup, a request or a log line
needs (the cost of a start is mostly imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmspell import plugins

#: imported on first use: the calculator (by the ``llmspell_tools_core`` package), the local
#: model's settings and files (an empty ``[providers.local]`` has nothing to check), the
#: ``web_search`` settings (an empty ``[plugins.tools-web]`` has nothing to check)
NOT_AT_START = ("llmspell_tools_core.calculator", "llmspell_local.settings",
                "llmspell_local.model_files", "llmspell_tools_web.search_settings")

#: runs ``llmspell run`` in-process, then reports what it imported and whether the logging
#: hook compiled its redaction expressions
HARNESS = """
import json, sys
from llmspell.cli import main
sys.argv = ["llmspell", "run", "--project", sys.argv[1], sys.argv[2]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
from llmspell_hooks import redact
print(json.dumps({"modules": sorted(sys.modules),
                  "compiled": redact._pattern.cache_info().currsize}), file=sys.stderr)
"""


@pytest.mark.parametrize("name, text", [("one.lua", "return 1"), ("one.js", "export default 1")])
def test_a_one_line_run_leaves_plugin_modules_unimported(
    tmp_path: Path, name: str, text: str
) -> None:
    spell = tmp_path / name
    spell.write_text(text)
    # no configuration file anywhere (so no plugin table to check), a private entry-point cache
    env = {**os.environ, plugins.CACHE_ENV: str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("LLMSPELL_CONFIG", None)
    out = subprocess.run([sys.executable, "-c", HARNESS, str(tmp_path), str(spell)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1", out.stdout + out.stderr
    report = json.loads(out.stderr.strip().splitlines()[-1])
    modules = set(report["modules"])
    assert "llmspell_hooks.logging_hook" in modules  # the hooks did load
    assert "llmspell_local.plugin" in modules and "llmspell_tools_core.plugin" in modules
    assert [m for m in NOT_AT_START if m in modules] == []
    assert report["compiled"] == 0  # nothing was logged, so nothing was redacted
