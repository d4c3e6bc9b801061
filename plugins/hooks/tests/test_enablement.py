"""Each built-in hook is its own plugin: the default set loads by itself, the others when
enabled by name (Kernel.load, llmspell.toml or --hook), and any can be disabled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from llmspell.config import parse
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel

DEFAULT_ON = {"hooks-cost"}
DEFAULT_OFF = {"hooks-cache", "hooks-ratelimit", "hooks-retry", "hooks-circuit", "hooks-otel"}


def hooks_loaded(kernel: Kernel) -> set[str]:
    return {name for name in kernel.plugins if name.startswith("hooks-")}


def test_the_default_set_loads_by_itself() -> None:
    kernel = Kernel.load(env={})
    assert hooks_loaded(kernel) == DEFAULT_ON
    assert not [f for f in kernel.failures if f.name.startswith("hooks-")]
    for name in DEFAULT_ON:
        assert kernel.plugins[name].package == "llmspell-hooks"


def test_every_hook_can_be_enabled_or_disabled_by_name() -> None:
    everything = Kernel.load(env={}, enable=sorted(DEFAULT_OFF))
    assert hooks_loaded(everything) == DEFAULT_ON | DEFAULT_OFF
    assert not [f for f in everything.failures if f.name.startswith("hooks-")]
    none = Kernel.load(env={}, disable=sorted(DEFAULT_ON))
    assert hooks_loaded(none) == set()


def test_the_config_file_enables_and_disables_hooks() -> None:
    config = parse(tomllib.loads(
        "[plugins.hooks-retry]\nenabled = true\n\n[plugins.hooks-cost]\nenabled = false\n"
    ))
    kernel = Kernel.load(env={}, config=config)
    assert hooks_loaded(kernel) == DEFAULT_ON - {"hooks-cost"} | {"hooks-retry"}
    # an explicit choice wins over the file
    assert "hooks-retry" not in Kernel.load(env={}, config=config, disable=["hooks-retry"]).plugins


def test_a_bad_setting_of_an_enabled_hook_names_the_key() -> None:
    config = parse(tomllib.loads("[plugins.hooks-cost]\nmax_cots = 1.0\n"))
    with pytest.raises(LlmspellError) as info:
        Kernel.load(env={}, config=config)
    assert info.value.code == "config_error"
    assert "max_cots" in info.value.message and "max_cost" in info.value.message


def _plugins_json(*flags: str, cwd: Path) -> set[str]:
    script = Path(sys.executable).with_name("llmspell")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    proc = subprocess.run([str(script), *flags, "plugins", "--json"], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return {p["name"] for p in data["plugins"] if p["name"].startswith("hooks-")}


def test_hook_flags_on_the_command_line(tmp_path: Path) -> None:
    assert _plugins_json(cwd=tmp_path) == DEFAULT_ON
    assert _plugins_json("--hook", "cache", "--hook=otel", "--no-hook", "cost",
                         cwd=tmp_path) == {"hooks-cache", "hooks-otel"}
