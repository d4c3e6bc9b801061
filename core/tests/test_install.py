"""``llmspell install``/``uninstall`` put a plugin package into the environment llmspell runs in
and report what it registered. The environment is a throwaway venv that sees this one's
packages through a ``.pth`` file; uv runs offline (the build backend comes from its cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

UV = os.environ.get("UV") or shutil.which("uv")
pytestmark = pytest.mark.skipif(UV is None, reason="needs the uv executable")

PYPROJECT = """
[project]
name = "llmspell-shout"
version = "0.3.0"
dependencies = ["llmspell"]

[project.entry-points.llmspell]
shout = "llmspell_shout"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""

MODULE = '''
from llmspell.lifecycle import hookimpl
from llmspell.tools import tool


@tool(parameters={"type": "object", "properties": {"text": {"type": "string"}},
                  "required": ["text"]})
async def shout(args, ctx):
    """Upper-case the text."""
    return args["text"].upper() + "!"


@hookimpl
def llmspell_register_tools(registry):
    registry.register(shout)
'''


def test_install_then_uninstall_a_plugin_package(tmp_path: Path) -> None:
    pkg = tmp_path / "shout"
    (pkg / "llmspell_shout").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "llmspell_shout" / "__init__.py").write_text(textwrap.dedent(MODULE))
    venv = tmp_path / "venv"
    subprocess.run([UV, "venv", "-q", str(venv), "--python", sys.executable], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )
    # addsitedir also processes the parent environment's .pth files (editable installs)
    parent = sysconfig.get_path("purelib")
    (site / "parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    env = {**os.environ, "UV_OFFLINE": "1", "UV": UV or ""}
    llmspell = [str(python), "-c", "from llmspell.cli import main; main()"]

    installed = subprocess.run(
        [*llmspell, "install", "--no-deps", str(pkg)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert "+ plugin shout (llmspell-shout 0.3.0)" in installed.stdout
    assert '"tools": ["shout"]' in installed.stdout

    called = subprocess.run(
        [*llmspell, "tools", "call", "shout", '{"text": "hi"}'],
        capture_output=True, text=True, env=env, check=False,
    )
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip() == "HI!"

    removed = subprocess.run(
        [*llmspell, "uninstall", "llmspell-shout"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )
    assert removed.returncode == 0, removed.stderr
    assert "- plugin shout (llmspell-shout)" in removed.stdout
    gone = subprocess.run(
        [*llmspell, "tools", "info", "shout"], capture_output=True, text=True, env=env,
        check=False,
    )
    assert gone.returncode == 1
    assert "no tool 'shout'" in gone.stderr
