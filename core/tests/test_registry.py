"""The named registries that plugins fill: adding, looking up, owners, errors and names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell.registry import Registry, check_name
from llmspell.tools import Tool, ToolContext, ToolRegistry


async def _noop(args: dict[str, Any], ctx: ToolContext) -> None:
    return None


def _tool(name: str) -> Tool:
    return Tool(name=name, description=f"the {name} tool", run=_noop)


# --- add / get / names / owner ----------------------------------------------------------------


def test_add_get_names_owner_and_len() -> None:
    reg: Registry[str] = Registry("engine")
    assert reg.kind == "engine"
    assert reg.names() == []
    assert len(reg) == 0

    assert reg.add("zeta", "Z") == "Z"
    reg.current_owner = "plugin-a"
    reg.add("alpha", "A")

    assert reg.get("alpha") == "A"
    assert reg.get("zeta") == "Z"
    assert reg.names() == ["alpha", "zeta"]  # sorted, not insertion order
    assert reg.values() == ["A", "Z"]
    assert list(reg) == ["alpha", "zeta"]
    assert len(reg) == 2
    assert "alpha" in reg
    assert "beta" not in reg
    assert reg.owner("zeta") == "api"  # the default owner outside a registration hook
    assert reg.owner("alpha") == "plugin-a"
    assert reg.owned_by("plugin-a") == ["alpha"]
    assert reg.owned_by("api") == ["zeta"]
    assert reg.owned_by("nobody") == []


def test_remove_forgets_item_and_owner() -> None:
    reg: Registry[int] = Registry("agent type")
    reg.current_owner = "p"
    reg.add("one", 1)
    assert reg.remove("one") == 1
    assert "one" not in reg
    assert reg.owned_by("p") == []
    with pytest.raises(LlmspellError) as info:
        reg.owner("one")
    assert info.value.code == "not_found"
    # the name is free again
    reg.add("one", 11)
    assert reg.get("one") == 11


def test_remove_of_unknown_name_is_not_found() -> None:
    reg: Registry[int] = Registry("engine")
    with pytest.raises(LlmspellError) as info:
        reg.remove("lua")
    assert info.value.code == "not_found"


def test_replace_true_overwrites_and_takes_new_owner() -> None:
    reg: Registry[str] = Registry("provider")
    reg.current_owner = "first"
    reg.add("openai", "old")
    reg.current_owner = "second"
    reg.add("openai", "new", replace=True)
    assert reg.get("openai") == "new"
    assert reg.owner("openai") == "second"
    assert reg.owned_by("first") == []


def test_tool_registry_registers_under_the_tool_name() -> None:
    reg = ToolRegistry()
    t = _tool("file_read")
    assert reg.register(t) is t
    assert reg.get("file_read") is t
    assert reg.kind == "tool"


# --- duplicates -------------------------------------------------------------------------------


def test_duplicate_name_is_plugin_error_naming_both_owners() -> None:
    reg = ToolRegistry()
    reg.current_owner = "tools-core"
    original = reg.register(_tool("echo"))
    reg.current_owner = "tools-extra"
    with pytest.raises(LlmspellError) as info:
        reg.register(_tool("echo"))
    err = info.value
    assert err.code == "plugin_error"
    assert "'echo'" in err.message
    assert "'tools-core'" in err.message
    assert "'tools-extra'" in err.message
    assert err.details == {"kind": "tool", "name": "echo", "owner": "tools-core"}
    # the first registration is untouched
    assert reg.get("echo") is original
    assert reg.owner("echo") == "tools-core"
    assert len(reg) == 1


# --- not found --------------------------------------------------------------------------------


def test_get_misspelt_name_suggests_the_close_one() -> None:
    reg = ToolRegistry()
    reg.register(_tool("file_read"))
    reg.register(_tool("web_fetch"))
    with pytest.raises(LlmspellError) as info:
        reg.get("fil_read")
    err = info.value
    assert err.code == "not_found"
    assert "'fil_read'" in err.message
    assert "did you mean 'file_read'?" in err.message
    assert err.details["name"] == "fil_read"
    assert err.details["known"] == ["file_read", "web_fetch"]


def test_get_from_empty_registry_says_none_are_registered() -> None:
    reg: Registry[Any] = Registry("engine")
    with pytest.raises(LlmspellError) as info:
        reg.get("lua")
    assert info.value.code == "not_found"
    assert "no engine 'lua'" in info.value.message
    assert "none are registered" in info.value.message


def test_get_of_a_distant_name_lists_what_exists() -> None:
    reg: Registry[int] = Registry("workflow kind")
    for name in ("sequential", "parallel"):
        reg.add(name, 1)
    with pytest.raises(LlmspellError) as info:
        reg.get("xyzzy")
    assert "did you mean" not in info.value.message
    assert "known: 'parallel', 'sequential'" in info.value.message


def test_owner_of_unknown_name_is_not_found() -> None:
    reg: Registry[int] = Registry("tool")
    reg.add("file_read", 1)
    with pytest.raises(LlmspellError) as info:
        reg.owner("fil_read")
    assert info.value.code == "not_found"
    assert "did you mean 'file_read'?" in info.value.message


# --- name validation --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "file_read", "web-fetch", "X9", "a" * 64, "_", "-"])
def test_valid_names_are_accepted(name: str) -> None:
    assert check_name("tool", name) == name
    reg: Registry[int] = Registry("tool")
    reg.add(name, 1)
    assert reg.get(name) == 1


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 65,
        "has space",
        "dotted.name",
        "slash/name",
        "ünïcode",
        "tab\t",
        "new\nline",
        None,
        42,
        b"bytes",
    ],
)
def test_invalid_names_are_refused_with_invalid_value(name: Any) -> None:
    reg: Registry[int] = Registry("tool")
    with pytest.raises(LlmspellError) as info:
        reg.add(name, 1)
    err = info.value
    assert err.code == "invalid_value"
    assert "invalid tool name" in err.message
    assert repr(name) in err.message
    assert "1-64 letters, digits, '_' or '-'" in err.message
    assert len(reg) == 0


def test_name_with_trailing_newline_is_refused() -> None:
    # ``$`` in a regex also matches before a final newline; names must not sneak one in.
    with pytest.raises(LlmspellError) as info:
        check_name("tool", "echo\n")
    assert info.value.code == "invalid_value"


def test_tool_with_invalid_name_cannot_be_created() -> None:
    with pytest.raises(LlmspellError) as info:
        _tool("bad name")
    assert info.value.code == "invalid_value"
    assert "'bad name'" in info.value.message


@given(st.text(min_size=0, max_size=80))
@example("echo\n")
@example("a" * 65)
def test_check_name_accepts_exactly_the_documented_alphabet(name: str) -> None:
    ok = 1 <= len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    if ok:
        assert check_name("tool", name) == name
    else:
        with pytest.raises(LlmspellError):
            check_name("tool", name)
