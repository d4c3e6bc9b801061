"""The first command of the quickstart on a machine with nothing configured:
``uv run llmspell run examples/hello.lua`` (and ``hello.js``) prints a real answer from the
embedded model (``local/smollm2``) and exits 0 — no API key, no LLMSPELL_MODEL, no config file,
no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Environment variables that would pick another model or provider.
PROVIDER_ENV = (
    "LLMSPELL_MODEL", "LLMSPELL_CONFIG", "LLMSPELL_PROJECT", "LLMSPELL_LOAD_PLUGINS",
    "LLMSPELL_DISABLE_PLUGINS", "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY", "OPENROUTER_API_KEY",
)


def llmspell_command() -> list[str]:
    """``uv run --no-sync llmspell``, or the environment's own ``llmspell`` without uv."""
    uv = shutil.which("uv")
    if uv is not None:
        return [uv, "run", "--no-sync", "llmspell"]
    return [str(Path(sys.executable).with_name("llmspell"))]


def run_example(name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV}
    config_home = tmp_path / "xdg-config"
    config_home.mkdir()
    env["XDG_CONFIG_HOME"] = str(config_home)  # an empty user config folder
    env["LLMSPELL_PROJECT"] = str(tmp_path)  # and no project llmspell.toml
    return subprocess.run(
        [*llmspell_command(), "run", f"examples/{name}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {}
    for name in ("hello.lua", "hello.js"):
        done = run_example(name, tmp_path_factory.mktemp(name.replace(".", "-")))
        assert done.returncode == 0, f"{name}: exit {done.returncode}\n{done.stderr}"
        out[name] = done.stdout
    return out


@pytest.mark.parametrize("name", ["hello.lua", "hello.js"])
def test_hello_prints_the_embedded_models_answer(name: str, answers: dict[str, str]) -> None:
    text = answers[name].strip()
    assert text, f"{name} printed nothing"
    assert "no model" not in text and "error" not in text.lower()
    assert len(text.split()) >= 2


def test_both_engines_get_the_same_answer(answers: dict[str, str]) -> None:
    """Same model, same prompt, same default seed: the same words from Lua and JavaScript."""
    assert answers["hello.lua"] == answers["hello.js"]


@pytest.mark.parametrize("name", ["pipeline.lua", "pipeline.js"])
def test_pipeline_of_two_agents_and_a_script_step_on_the_embedded_model(
    name: str, tmp_path: Path
) -> None:
    """examples/pipeline.*: an agent on the embedded model calls a tool, a script step reshapes
    its report, a second agent answers; the spell returns who ran and how often the tool ran."""
    done = run_example(name, tmp_path)
    assert done.returncode == 0, f"{name}: exit {done.returncode}\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    report = next(line for line in lines if line.startswith("report: "))
    advice = next(line for line in lines if line.startswith("advice: "))
    assert report.removeprefix("report: ").strip() and advice.removeprefix("advice: ").strip()
    result = json.loads(lines[-1])
    assert result["agents"] == ["reporter", "advisor"]
    assert result["weather_calls"] >= 1
