"""Tools registered by name and imported when first looked up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llmspell.errors import LlmspellError
from llmspell.tools import Tool, ToolRegistry

MODULE = '''
from llmspell.tools import tool

@tool(name="shout", description="Upper-case the text.")
async def shout(args, ctx):
    return args["text"].upper()

@tool(name="other", description="Not shout.")
async def other(args, ctx):
    return None
'''


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"lazy_tools_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_lazy_tool_is_imported_on_first_lookup(module: str) -> None:
    registry = ToolRegistry()
    registry.current_owner = "demo"
    registry.register_lazy("shout", f"{module}:shout")
    assert "shout" in registry and registry.names() == ["shout"]
    assert registry.owner("shout") == "demo"
    assert module not in sys.modules  # names and owners need no import
    tool = registry.get("shout")
    assert isinstance(tool, Tool) and tool.name == "shout"
    assert module in sys.modules
    assert registry.get("shout") is tool and registry.values() == [tool]


def test_a_lazy_tool_may_be_built_by_a_function() -> None:
    registry = ToolRegistry()
    built: list[str] = []

    def build() -> Tool:
        built.append("x")
        return Tool(name="made", description="d", run=lambda a, c: None)  # type: ignore[arg-type,return-value]

    registry.register_lazy("made", build)
    assert built == []
    assert registry.get("made").name == "made" and built == ["x"]


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("{module}:other", "is not the tool 'shout'"),
        ("{module}:missing", "AttributeError"),
        ("no_such_module_llmspell:shout", "ModuleNotFoundError"),
    ],
)
def test_a_wrong_target_is_a_plugin_error_naming_the_tool(
    module: str, target: str, fragment: str
) -> None:
    registry = ToolRegistry()
    registry.register_lazy("shout", target.format(module=module))
    with pytest.raises(LlmspellError) as info:
        registry.get("shout")
    assert info.value.code == "plugin_error"
    assert "'shout'" in info.value.message and fragment in info.value.message


def test_removing_a_lazy_tool_does_not_import_it(module: str) -> None:
    registry = ToolRegistry()
    registry.register_lazy("shout", f"{module}:shout")
    registry.remove("shout")
    assert "shout" not in registry and module not in sys.modules
    with pytest.raises(LlmspellError, match="no tool 'shout'"):
        registry.get("shout")
