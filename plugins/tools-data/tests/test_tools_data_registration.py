"""The tools-data plugin through its entry point: what it registers, the completeness of every
tool's spec, every example run under the empty policy, and a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator

from llmspell.kernel import Kernel
from llmspell.security import SecurityPolicy
from llmspell_tools_data.tools import TOOLS

if TYPE_CHECKING:
    from conftest import Tools

TOOL_NAMES = sorted(
    [
        "csv_query",
        "csv_stats",
        "data_convert",
        "json_diff",
        "json_query",
        "json_validate",
        "table_render",
        "text_diff",
        "xml_query",
    ]
)


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-data" in kernel.plugins
    info = kernel.plugins["tools-data"]
    assert info.package == "llmspell-tools-data"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-data"]
    assert kernel.components("tools-data") == {"tools": TOOL_NAMES}
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-data"
    assert sorted(t.name for t in TOOLS) == TOOL_NAMES
    kernel.check_pending()


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-data"})
    assert "tools-data" not in kernel.plugins
    for name in TOOL_NAMES:
        assert name not in kernel.tools


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    tool.check_schema()
    spec = tool.spec()
    assert spec["description"].split(". ")[0]
    assert len(spec["description"]) > 100
    assert spec["category"] == "data"
    assert spec["permissions"] == []  # data in arguments only: no files, network, processes
    assert spec["requires_approval"] is False
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert params["required"]
    assert set(params["required"]) <= set(params["properties"])
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
        if "default" in schema:  # a documented default is valid for its own property
            assert Draft202012Validator(schema).is_valid(schema["default"]), f"{name}.{prop}"
        if schema.get("type") == "string" and "enum" not in schema:
            assert "maxLength" in schema, f"{name}.{prop} is an unbounded string"
    assert tool.validate(spec["example"]) == spec["example"]
    json.dumps(spec)  # the spec is JSON data


@pytest.mark.parametrize("name", TOOL_NAMES)
@pytest.mark.parametrize("policy", [None, SecurityPolicy()], ids=["no-policy", "empty-policy"])
async def test_tool_example_runs_under_the_empty_policy(
    tools: Tools, kernel: Kernel, name: str, policy: SecurityPolicy | None
) -> None:
    example = kernel.tools.get(name).example
    result = await tools.call(name, example, policy)
    assert isinstance(result, dict) and result
    assert json.loads(json.dumps(result)) == result  # JSON data, nothing else


EXAMPLE_RESULTS: dict[str, Any] = {
    "json_query": {"result": ["Ann"]},
    "json_diff": {
        "equal": False,
        "truncated": False,
        "count": 3,
        "changes": [
            {"op": "remove", "path": "/tags/1", "old": "b"},
            {"op": "replace", "path": "/age", "old": 34, "new": 35},
            {"op": "add", "path": "/city", "new": "Oslo"},
        ],
    },
    "text_diff": {
        "diff": "--- old\n+++ new\n@@ -1,3 +1,4 @@\n one\n-two\n+2\n three\n+four\n",
        "added": 2,
        "removed": 1,
        "equal": False,
        "truncated": False,
    },
    "data_convert": {
        "format": "json",
        "text": '{\n  "name": "Ann",\n  "tags": [\n    "a",\n    "b"\n  ],\n  "age": 34\n}',
    },
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_RESULTS))
async def test_example_results(tools: Tools, kernel: Kernel, name: str) -> None:
    assert await tools.call(name, kernel.tools.get(name).example) == EXAMPLE_RESULTS[name]


def test_importing_the_plugin_is_cheap() -> None:
    # a fresh interpreter: the heavy libraries are imported only when a tool runs
    heavy = ["jmespath", "jsonschema", "yaml", "tomli_w", "lxml", "referencing", "statistics"]
    code = (
        "import sys, json, llmspell_tools_data.plugin\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout) == []
