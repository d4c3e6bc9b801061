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
from llmspell.lifecycle import OPERATIONS, HookPoint

DEFAULT_ON = {"hooks-cost", "hooks-logging", "hooks-metrics"}
DEFAULT_OFF = {"hooks-cache", "hooks-ratelimit", "hooks-retry", "hooks-circuit", "hooks-trace",
               "hooks-otel"}


def hooks_loaded(kernel: Kernel) -> set[str]:
    return {name for name in kernel.plugins if name.startswith("hooks-")}


def test_the_default_set_loads_by_itself() -> None:
    kernel = Kernel.load(env={})
    assert hooks_loaded(kernel) == DEFAULT_ON
    assert not [f for f in kernel.failures if f.name.startswith("hooks-")]
    for name in DEFAULT_ON:
        assert kernel.plugins[name].package == "llmspell-hooks"


def _chain(kernel: Kernel, point: HookPoint) -> list[str]:
    return [entry.name for entry in kernel.hooks.chain(point)]


def test_the_default_set_does_little_per_operation() -> None:
    """With default settings no operation has a before hook (metrics time operations from
    ctx.started, logging at level warning has nothing to do on success, cost checks budgets
    only where there are budgets); the after hooks are metrics' counters and cost's counting
    of model calls; failures go to on_error hooks."""
    kernel = Kernel.load(env={})
    for kind, (before, after) in OPERATIONS.items():
        assert _chain(kernel, before) == [], kind
        if kind in ("state_write", "event_emit"):
            assert _chain(kernel, after) == [], kind
        elif kind == "llm_call":
            assert _chain(kernel, after) == ["hooks-cost.llmspell_after_llm_call",
                                             "hooks-metrics:counters.llmspell_after_llm_call"]
        else:
            assert _chain(kernel, after) == [f"hooks-metrics:counters.{after.hook_name}"], kind
    # metrics first (it counts every failed attempt), logging last (only what nobody recovered)
    assert _chain(kernel, HookPoint.ON_ERROR) == ["hooks-metrics:counters.llmspell_on_error",
                                                  "hooks-logging.llmspell_on_error"]
    # the settings that need more hooks add them to that kernel only
    config = parse(tomllib.loads(
        '[plugins.hooks-logging]\nlevel = "debug"\n\n[plugins.hooks-cost]\nmax_cost = 1.0\n'))
    busy = Kernel.load(env={}, config=config)
    assert _chain(busy, HookPoint.BEFORE_LLM_CALL) == [
        "hooks-cost:budgets.llmspell_before_llm_call",
        "hooks-logging:operations.llmspell_before_llm_call",
    ]
    assert "hooks-logging:operations.llmspell_after_state_write" in _chain(
        busy, HookPoint.AFTER_STATE_WRITE)
    assert hooks_loaded(busy) == DEFAULT_ON  # the per-kernel hook objects are not plugins
    assert _chain(kernel, HookPoint.BEFORE_LLM_CALL) == []


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
                         cwd=tmp_path) == DEFAULT_ON - {"hooks-cost"} | {"hooks-cache",
                                                                         "hooks-otel"}
