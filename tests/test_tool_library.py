"""The built-in tool library as a whole: at least 40 tools registered through the entry points
of their family packages, complete specs, the generated reference (docs/tools.md) current, and
the tools usable from Lua, JavaScript and agents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmspell.cli.tools_doc import lua_literal, render
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.tools import PERMISSIONS, Tool

ROOT = Path(__file__).resolve().parent.parent
#: family plugin -> the category of its tools
FAMILIES = {
    "tools-core": {"utility", "math"},
    "tools-fs": {"files"},
    "tools-web": {"web"},
    "tools-data": {"data"},
    "tools-text": {"text"},
    "tools-time": {"time"},
    "tools-system": {"system"},
}


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    return Kernel.load(env={})


def library(kernel: Kernel) -> list[Tool]:
    return [t for t in kernel.tools.values() if kernel.tools.owner(t.name) in FAMILIES]


def test_at_least_forty_tools_come_from_the_family_packages(kernel: Kernel) -> None:
    tools = library(kernel)
    assert len(tools) >= 40, sorted(t.name for t in tools)
    for plugin, categories in FAMILIES.items():
        info = kernel.plugins[plugin]
        assert info.package == f"llmspell-{plugin}"
        owned = kernel.components(plugin)["tools"]
        assert owned, plugin
        for name in owned:
            assert kernel.tools.get(name).category in categories, (plugin, name)
    assert not kernel.failures


def test_every_tool_has_a_complete_spec(kernel: Kernel) -> None:
    for tool in library(kernel):
        where = f"tool {tool.name!r}"
        assert tool.description.strip(), where
        assert tool.permissions <= PERMISSIONS, where
        tool.check_schema()
        params = tool.parameters
        assert params.get("additionalProperties") is False, where
        for arg, schema in params.get("properties", {}).items():
            assert schema.get("description"), f"{where}: argument {arg!r} has no description"
        assert tool.example is not None, where
        tool.validate(tool.example)


def test_system_tools_are_off_by_default(kernel: Kernel) -> None:
    for name in kernel.components("tools-system")["tools"]:
        assert kernel.tools.get(name).permissions, name
    for name in kernel.components("tools-fs")["tools"]:
        assert kernel.tools.get(name).permissions & {"fs_read", "fs_write"}, name
    destructive = [t.name for t in library(kernel) if t.requires_approval]
    assert "file_delete" in destructive


def test_the_tool_reference_is_current(kernel: Kernel) -> None:
    text = render(kernel.tools.values(), kernel.tools.owner)
    current = (ROOT / "docs" / "tools.md").read_text(encoding="utf-8")
    assert current == text, "docs/tools.md is stale: run `uv run llmspell tools docs -o FILE`"
    for tool in kernel.tools.values():
        assert f"### `{tool.name}`" in current


async def test_the_documented_lua_and_js_examples_build_the_example_arguments(
    kernel: Kernel,
) -> None:
    """The reference shows each example as a Lua table and a JS object literal; both engines
    turn them into exactly the example's arguments."""
    tools = [t for t in kernel.tools.values() if t.example is not None]
    lua_src = "return {" + ", ".join(lua_literal(t.example) for t in tools) + "}"
    js_src = "export default [" + ", ".join(
        json.dumps(t.example, ensure_ascii=False) for t in tools
    ) + "];"
    for engine_name, source in (("lua", lua_src), ("js", js_src)):
        engine = kernel.engines.get(engine_name)
        async with SpellRun.open(kernel) as run:
            values = await engine.run(source, f"examples.{engine_name}", run)
        for tool, value in zip(tools, values, strict=True):
            assert value == tool.example, (engine_name, tool.name)


def test_tools_list_json_from_the_console_script() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.cli", "tools", "list", "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    if proc.returncode != 0 and "No module named llmspell.cli.__main__" in proc.stderr:
        exe = Path(sys.executable).with_name("llmspell")
        proc = subprocess.run([str(exe), "tools", "list", "--json"], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert len([t for t in listed if t["plugin"] in FAMILIES]) >= 40
    by_category = subprocess.run(
        [str(Path(sys.executable).with_name("llmspell")), "tools", "list", "--category",
         "files", "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    files = json.loads(by_category.stdout)
    assert files and {t["category"] for t in files} == {"files"}


# --- the same calls from Python, Lua, JavaScript and an agent ---------------------------------

#: one deterministic call per family; each engine must return exactly what Python gets
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("file_write", {"path": "notes/a.txt", "content": "héllo tools\nline two\n", "parents": True}),
    ("file_read", {"path": "notes/a.txt"}),
    ("file_search", {"pattern": "tools", "path": "notes"}),
    ("regex_match", {"pattern": r"(?P<user>\w+)@(?P<host>[\w.]+)", "text": "ann@example.org"}),
    ("text_transform", {"text": "  Hello World  ", "operations": ["strip", "snake_case"]}),
    ("hash", {"text": "hello world", "algorithm": "sha256"}),
    ("time_add", {"time": "2024-01-31T09:00:00", "timezone": "Europe/Paris", "months": 1}),
    ("unit_convert", {"value": 26.2, "from": "mile", "to": "km"}),
    ("calculator", {"expression": "2 * (3 + 4) ** 2"}),
    ("url_parse", {"url": "https://example.com/a?b=1&b=2#c"}),
    ("env_read", {"names": ["LLMSPELL_DEMO_VALUE"]}),
]


def _policy(root: Path) -> Any:
    from llmspell.security import SecurityPolicy

    return SecurityPolicy(write_roots=[root], env_names=["LLMSPELL_DEMO_VALUE"])


def _lua_spell(calls: list[tuple[str, dict[str, Any]]]) -> str:
    lines = ["local out = {}"]
    for name, args in calls:
        lines.append(f'out[#out + 1] = Tool.call("{name}", {lua_literal(args)})')
    lines.append('local ok, err = pcall(Tool.call, "file_delete", {path = "notes/a.txt"})')
    lines.append("out[#out + 1] = {ok = ok, code = err.code, reason = err.details.reason}")
    lines.append("return out")
    return "\n".join(lines)


def _js_spell(calls: list[tuple[str, dict[str, Any]]]) -> str:
    lines = ["const out = [];"]
    for name, args in calls:
        lines.append(f'out.push(await Tool.call("{name}", {json.dumps(args)}));')
    lines.append("try { await Tool.call('file_delete', {path: 'notes/a.txt'}); "
                 "out.push({ok: true}); }")
    lines.append("catch (err) { out.push({ok: false, code: err.code, "
                 "reason: err.details.reason}); }")
    lines.append("export default out;")
    return "\n".join(lines)


async def test_spells_in_both_engines_get_what_python_gets(
    kernel: Kernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMSPELL_DEMO_VALUE", "from the host")
    results: dict[str, Any] = {}
    for lang in ("python", "lua", "js"):
        root = tmp_path / lang
        root.mkdir()
        monkeypatch.chdir(root)
        async with SpellRun.open(kernel, policy=_policy(root)) as run:
            if lang == "python":
                out = [await run.call_tool(name, args) for name, args in CALLS]
                try:
                    await run.call_tool("file_delete", {"path": "notes/a.txt"})
                except LlmspellError as err:
                    out.append({"ok": False, "code": err.code, "reason": err.details["reason"]})
            else:
                source = _lua_spell(CALLS) if lang == "lua" else _js_spell(CALLS)
                engine = kernel.engines.get(lang)
                out = await engine.run(source, f"tools.{lang}", run)
        # paths differ per root: compare them relative to it
        results[lang] = json.loads(json.dumps(out).replace(str(root.resolve()), "ROOT"))
    # a null member is nil in Lua, and null again on the way back (spell-api.md, "Values")
    assert results["lua"] == results["python"]
    assert results["js"] == results["python"]
    python = results["python"]
    assert python[1]["content"] == "héllo tools\nline two\n"
    assert python[9]["host"] == "example.com"
    assert python[10]["values"] == {"LLMSPELL_DEMO_VALUE": "from the host"}
    assert python[-1] == {"ok": False, "code": "permission_denied", "reason": "approval"}
    assert (tmp_path / "lua" / "notes" / "a.txt").exists()  # the refused delete changed nothing


async def test_an_agent_calls_library_tools() -> None:
    from llmspell.agents import LLMAgent
    from llmspell.testing import Reply, ScriptedProvider, make_kernel

    provider = ScriptedProvider([
        Reply(tool_calls=[
            {"name": "text_stats", "arguments": {"text": "one two three. four five!"}},
            {"name": "unit_convert", "arguments": {"value": 100, "from": "degC", "to": "degF"}},
        ]),
        "Five words; water boils at 212 °F.",
    ])
    kernel = make_kernel(entry_points=True, provider=provider)
    agent = LLMAgent(name="helper", model="scripted/test", instructions="Use tools.",
                     tools=["text_stats", "unit_convert"])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "How many words, and what is 100 °C in °F?")
    assert result.text == "Five words; water boils at 212 °F."
    by_name = {call["name"]: call["result"] for call in result.tool_calls}
    assert by_name["text_stats"]["words"] == 5
    assert by_name["unit_convert"]["value"] == pytest.approx(212)
    offered = {t.name for t in provider.requests[0].tools}
    assert offered == {"text_stats", "unit_convert"}
