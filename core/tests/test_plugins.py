"""Loading plugins: plugin objects handed to the kernel, and real entry points of a real
distribution installed into a temporary directory and loaded by the ``llmspell`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import hookimpl
from llmspell.providers import Capabilities
from llmspell.registry import Registry
from llmspell.tools import Tool, ToolContext, ToolRegistry, tool

FIXTURES = Path(__file__).parent / "plugin_fixtures"


# --- plugin objects ---------------------------------------------------------------------------


@tool(
    name="shout",
    parameters={
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
)
async def shout(args: dict[str, Any], ctx: ToolContext) -> str:
    """Upper-case the text."""
    return args["text"].upper()


@tool(name="whisper")
async def whisper(args: dict[str, Any], ctx: ToolContext) -> str:
    """Say nothing loudly."""
    return "..."


class FakeProvider:
    name = "fake"
    capabilities = Capabilities()


class FakeEngine:
    name = "fake-engine"
    extensions = (".fake",)

    async def run(self, source: str, filename: str, run: Any) -> Any:
        return source


class EverythingPlugin:
    """A class-based plugin implementing every registration hook that fills a registry."""

    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        registry.register(shout)
        registry.register(whisper)

    @hookimpl
    def llmspell_register_providers(self, registry: Registry[Any]) -> None:
        registry.add("fake", FakeProvider())

    @hookimpl
    def llmspell_register_engines(self, registry: Registry[Any]) -> None:
        registry.add("fake-engine", FakeEngine())

    @hookimpl
    def llmspell_register_agents(self, registry: Registry[Any]) -> None:
        registry.add("echo-agent", dict)

    @hookimpl
    def llmspell_register_workflows(self, registry: Registry[Any]) -> None:
        registry.add("fan-out", list)

    @hookimpl
    def llmspell_before_tool_call(self, ctx: Any) -> None:
        return None


def _module_plugin() -> types.ModuleType:
    """A module-like plugin (what an entry point usually names)."""
    module = types.ModuleType("my_module_plugin")

    @hookimpl
    def llmspell_register_tools(registry: ToolRegistry) -> None:
        registry.register(Tool(name="module_tool", description="from a module", run=shout.run))

    module.llmspell_register_tools = llmspell_register_tools  # type: ignore[attr-defined]
    return module


class MisspeltPlugin:
    @hookimpl
    def llmspell_befor_tool_call(self, ctx: Any) -> None:
        return None


class RaisingPlugin:
    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        raise RuntimeError("kaboom: config missing")


class DuplicatePlugin:
    """Registers a tool whose name is already taken by :class:`EverythingPlugin`."""

    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        registry.register(Tool(name="shout", description="another shout", run=shout.run))


def test_class_plugin_components_land_in_registries_attributed_to_it() -> None:
    kernel = Kernel.load(entry_points=False, plugins=[("everything", EverythingPlugin())])

    assert kernel.failures == []
    assert kernel.tools.get("shout") is shout
    assert kernel.tools.owner("shout") == "everything"
    assert isinstance(kernel.providers.get("fake"), FakeProvider)
    assert kernel.providers.owner("fake") == "everything"
    assert kernel.engines.get("fake-engine").extensions == (".fake",)
    assert kernel.agents.get("echo-agent") is dict
    assert kernel.workflows.get("fan-out") is list
    assert kernel.components("everything") == {
        "tools": ["shout", "whisper"],
        "agents": ["echo-agent"],
        "providers": ["fake"],
        "engines": ["fake-engine"],
        "workflows": ["fan-out"],
    }
    info = kernel.plugins["everything"]
    assert info.name == "everything"
    assert info.package == ""  # not from a distribution
    assert info.hooks == (
        "llmspell_before_tool_call",
        "llmspell_register_agents",
        "llmspell_register_engines",
        "llmspell_register_providers",
        "llmspell_register_tools",
        "llmspell_register_workflows",
    )
    # attribution is over: later additions by API callers are owned by "api"
    kernel.tools.register(Tool(name="later", description="", run=shout.run))
    assert kernel.tools.owner("later") == "api"
    assert kernel.components("nobody") == {}


def test_module_plugin_registers_through_the_same_path() -> None:
    kernel = Kernel.load(
        entry_points=False,
        plugins=[("mod", _module_plugin()), ("everything", EverythingPlugin())],
    )
    assert kernel.failures == []
    assert sorted(kernel.plugins) == ["everything", "mod"]
    assert kernel.components("mod") == {"tools": ["module_tool"]}
    assert kernel.tools.owner("module_tool") == "mod"
    assert kernel.plugins["mod"].hooks == ("llmspell_register_tools",)


async def test_registered_tool_runs_through_a_spell_run() -> None:
    from llmspell.runtime import SpellRun

    kernel = Kernel.load(entry_points=False, plugins=[("everything", EverythingPlugin())])
    async with SpellRun.open(kernel) as run:
        assert await run.call_tool("shout", {"text": "hi"}) == "HI"


def test_misspelt_hook_is_refused_and_recorded() -> None:
    kernel = Kernel.load(
        entry_points=False,
        plugins=[("typo", MisspeltPlugin()), ("everything", EverythingPlugin())],
    )
    assert "typo" not in kernel.plugins
    assert kernel.pm.get_plugin("typo") is None
    [failure] = kernel.failures
    assert failure.name == "typo"
    assert "unknown hook 'llmspell_befor_tool_call'" in failure.error
    # the good plugin is unaffected and the kernel still passes its start-up check
    assert kernel.tools.owner("shout") == "everything"
    kernel.check_pending()


def test_misspelt_hook_failure_suggests_the_real_hook() -> None:
    kernel = Kernel.load(entry_points=False, plugins=[("typo", MisspeltPlugin())])
    [failure] = kernel.failures
    assert "did you mean 'llmspell_before_tool_call'" in failure.error


def test_raising_registration_hook_is_recorded_and_others_still_load() -> None:
    kernel = Kernel.load(
        entry_points=False,
        plugins=[
            ("mod", _module_plugin()),
            ("raiser", RaisingPlugin()),
            ("everything", EverythingPlugin()),
        ],
    )
    [failure] = kernel.failures
    assert failure.name == "raiser"
    assert "llmspell_register_tools failed" in failure.error
    assert "RuntimeError: kaboom: config missing" in failure.error
    assert kernel.components("raiser") == {}
    # plugins before and after it registered everything
    assert kernel.tools.owner("module_tool") == "mod"
    assert kernel.tools.owner("shout") == "everything"
    assert kernel.tools.current_owner == "api"


def test_duplicate_component_across_plugins_is_a_failure_naming_both() -> None:
    kernel = Kernel.load(
        entry_points=False,
        plugins=[("everything", EverythingPlugin()), ("dupe", DuplicatePlugin())],
    )
    [failure] = kernel.failures
    assert failure.name == "dupe"
    assert "'shout'" in failure.error
    assert "'dupe'" in failure.error
    assert "'everything'" in failure.error
    assert kernel.tools.get("shout") is shout
    assert kernel.tools.owner("shout") == "everything"


def test_two_plugins_under_one_name_second_is_recorded() -> None:
    kernel = Kernel.load(
        entry_points=False,
        plugins=[("same", EverythingPlugin()), ("same", _module_plugin())],
    )
    assert list(kernel.plugins) == ["same"]
    [failure] = kernel.failures
    assert failure.name == "same"
    assert "module_tool" not in kernel.tools


def test_check_pending_passes_for_a_good_set() -> None:
    kernel = Kernel.load(
        entry_points=False,
        plugins=[("everything", EverythingPlugin()), ("mod", _module_plugin())],
    )
    kernel.check_pending()


def test_check_pending_catches_a_misspelt_hook_registered_behind_the_loader() -> None:
    kernel = Kernel.load(entry_points=False)
    kernel.pm.register(MisspeltPlugin(), name="sneaky")
    with pytest.raises(pluggy.PluginValidationError, match="llmspell_befor_tool_call"):
        kernel.check_pending()


def test_register_plugin_later_adds_components_with_attribution() -> None:
    kernel = Kernel.load(entry_points=False)
    assert kernel.register_plugin(_module_plugin(), "late") is not None
    assert kernel.tools.owner("module_tool") == "late"
    assert kernel.register_plugin(MisspeltPlugin(), "typo") is None
    assert [f.name for f in kernel.failures] == ["typo"]


def test_load_filters_from_env_mapping() -> None:
    """``env`` replaces ``os.environ`` for the allow/deny lists (tools-core is a workspace
    member, so its entry point is installed in this environment)."""
    assert "tools-core" in Kernel.load(env={}).plugins
    assert Kernel.load(env={"LLMSPELL_LOAD_PLUGINS": ""}).plugins == {}
    assert list(Kernel.load(env={"LLMSPELL_LOAD_PLUGINS": " tools-core "}).plugins) == [
        "tools-core"
    ]
    assert (
        "tools-core"
        not in Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "other, tools-core"}).plugins
    )
    both = {"LLMSPELL_LOAD_PLUGINS": "tools-core", "LLMSPELL_DISABLE_PLUGINS": "tools-core"}
    assert Kernel.load(env=both).plugins == {}


def test_registry_lookup_errors_reach_the_caller() -> None:
    kernel = Kernel.load(entry_points=False, plugins=[("everything", EverythingPlugin())])
    with pytest.raises(LlmspellError) as info:
        kernel.tools.get("shuot")
    assert "did you mean 'shout'?" in info.value.message


# --- a real distribution with real entry points -----------------------------------------------


def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


@pytest.fixture(scope="module")
def greet_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``llmspell-greet`` built from ``plugin_fixtures/greet_dist`` and installed (no deps,
    offline) into a fresh directory, to be put on ``PYTHONPATH``."""
    uv = _uv()
    if uv is None:
        pytest.skip("the uv executable is needed to build the test plugin")
    base = tmp_path_factory.mktemp("greet")
    src = base / "src"
    shutil.copytree(FIXTURES / "greet_dist", src)
    target = base / "site"
    proc = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--offline",
            "--no-deps",
            "--python",
            sys.executable,
            "--target",
            str(target),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"building the test plugin failed:\n{proc.stderr}"
    assert (target / "llmspell_greet" / "plugin.py").is_file()
    assert list(target.glob("llmspell_greet-1.2.3.dist-info"))
    return target


def _llmspell_cmd() -> list[str]:
    script = Path(sys.executable).parent / "llmspell"
    if script.is_file():
        return [str(script)]
    return [
        sys.executable,
        "-c",
        "import sys; sys.argv[0] = 'llmspell'; from llmspell.cli import main; main()",
    ]


def _run(
    target: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LLMSPELL_LOAD_PLUGINS", "LLMSPELL_DISABLE_PLUGINS", "PYTHONPATH")
    }
    full_env["PYTHONPATH"] = str(target)
    full_env.update(env or {})
    return subprocess.run(
        [*_llmspell_cmd(), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        cwd=target.parent,
    )


def _plugins_json(target: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = _run(target, "plugins", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_plugins_json_lists_installed_plugin_and_failure(greet_target: Path) -> None:
    data = _plugins_json(greet_target)
    by_name = {p["name"]: p for p in data["plugins"]}

    greet = by_name["greet"]
    assert greet["package"] == "llmspell-greet"
    assert greet["version"] == "1.2.3"
    assert greet["hooks"] == ["llmspell_register_commands", "llmspell_register_tools"]
    assert greet["components"] == {"tools": ["greet"]}

    core = by_name["tools-core"]
    assert core["package"] == "llmspell-tools-core"
    assert {"echo", "sleep", "calculator"} <= set(core["components"]["tools"])

    [broken] = [f for f in data["failures"] if f["name"] == "broken"]
    assert broken["package"] == "llmspell-greet"
    assert broken["version"] == "1.2.3"
    assert "ImportError" in broken["error"]
    assert "frobnicate" in broken["error"]
    assert "broken" not in by_name


def test_plugins_table_shows_plugin_and_failure(greet_target: Path) -> None:
    proc = _run(greet_target, "plugins")
    assert proc.returncode == 0, proc.stderr
    assert "greet" in proc.stdout
    assert "llmspell-greet" in proc.stdout
    assert "failed:" in proc.stdout and "broken" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_entry_point_tool_is_callable_from_the_cli(greet_target: Path) -> None:
    proc = _run(greet_target, "tools", "call", "greet", '{"name": "ada"}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello, ada\n"

    listed = _run(greet_target, "tools", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    greet = {t["name"]: t for t in json.loads(listed.stdout)}["greet"]
    assert greet["plugin"] == "greet"
    assert greet["category"] == "test"


def test_entry_point_plugin_adds_its_cli_command(greet_target: Path) -> None:
    helped = _run(greet_target, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "greet-cmd" in helped.stdout
    proc = _run(greet_target, "greet-cmd", "bob")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "greetings, bob\n"


def test_load_plugins_allowlist_hides_the_new_plugin(greet_target: Path) -> None:
    data = _plugins_json(greet_target, {"LLMSPELL_LOAD_PLUGINS": "tools-core"})
    assert [p["name"] for p in data["plugins"]] == ["tools-core"]
    assert data["failures"] == []  # "broken" is not even imported

    proc = _run(
        greet_target,
        "tools",
        "call",
        "greet",
        '{"name": "ada"}',
        env={"LLMSPELL_LOAD_PLUGINS": "tools-core"},
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "no tool 'greet'" in proc.stderr


def test_empty_load_plugins_loads_none(greet_target: Path) -> None:
    data = _plugins_json(greet_target, {"LLMSPELL_LOAD_PLUGINS": ""})
    assert data == {"plugins": [], "failures": []}


def test_disable_plugins_hides_named_plugins(greet_target: Path) -> None:
    data = _plugins_json(greet_target, {"LLMSPELL_DISABLE_PLUGINS": "greet"})
    names = [p["name"] for p in data["plugins"]]
    assert "greet" not in names
    assert "tools-core" in names
    assert [f["name"] for f in data["failures"]] == ["broken"]

    data = _plugins_json(greet_target, {"LLMSPELL_DISABLE_PLUGINS": "greet , broken"})
    names = [p["name"] for p in data["plugins"]]
    assert "tools-core" in names and "greet" not in names
    assert data["failures"] == []


def test_allowlist_can_select_the_new_plugin_alone(greet_target: Path) -> None:
    data = _plugins_json(greet_target, {"LLMSPELL_LOAD_PLUGINS": "greet"})
    assert [p["name"] for p in data["plugins"]] == ["greet"]
    assert data["failures"] == []


@pytest.fixture
def greet_on_path(greet_target: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(greet_target))
    yield greet_target
    for name in [m for m in sys.modules if m.startswith("llmspell_greet")]:
        del sys.modules[name]


def test_entry_points_load_in_process_with_package_metadata(greet_on_path: Path) -> None:
    kernel = Kernel.load(env={"LLMSPELL_LOAD_PLUGINS": "greet,broken"})
    assert list(kernel.plugins) == ["greet"]
    info = kernel.plugins["greet"]
    assert (info.package, info.version) == ("llmspell-greet", "1.2.3")
    assert kernel.tools.owner("greet") == "greet"
    [failure] = kernel.failures
    assert (failure.name, failure.package, failure.version) == ("broken", "llmspell-greet", "1.2.3")
    assert failure.error.startswith("import failed: ImportError:")
    kernel.check_pending()


def test_an_async_registration_hook_is_reported_not_silently_ignored() -> None:
    from llmspell.lifecycle import hookimpl as _hookimpl

    class AsyncRegistrar:
        @_hookimpl
        async def llmspell_register_tools(self, registry):  # type: ignore[no-untyped-def]
            raise AssertionError("never awaited")

    kernel = Kernel.load(entry_points=False, plugins=[("async-reg", AsyncRegistrar())])
    assert [f.name for f in kernel.failures] == ["async-reg"]
    assert "plain (not async)" in kernel.failures[0].error
