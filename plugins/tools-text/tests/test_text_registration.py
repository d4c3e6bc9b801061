"""The tools-text plugin: loaded through its entry point, owning exactly its tools, each with a
complete spec whose example runs under the empty policy."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from llmspell.kernel import Kernel
from llmspell.security import SecurityPolicy

TOOL_NAMES = sorted(
    [
        "regex_match",
        "regex_replace",
        "regex_split",
        "template_render",
        "text_transform",
        "text_stats",
        "token_count",
        "text_chunk",
        "hash",
        "encode",
        "uuid",
    ]
)


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-text" in kernel.plugins
    info = kernel.plugins["tools-text"]
    assert info.package == "llmspell-tools-text"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-text"]
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-text"
    assert sorted(kernel.components("tools-text")["tools"]) == TOOL_NAMES
    kernel.check_pending()


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-text"})
    assert "tools-text" not in kernel.plugins
    for name in TOOL_NAMES:
        assert name not in kernel.tools


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    tool.check_schema()
    spec = tool.spec()
    assert spec["description"].split(". ")[0]
    assert len(spec["description"]) > 80
    assert spec["category"] == "text"
    assert spec["permissions"] == []
    assert spec["requires_approval"] is False
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert isinstance(params["required"], list)
    assert set(params["required"]) <= set(params["properties"])
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
        if schema.get("type") == "string" and "enum" not in schema:
            assert "maxLength" in schema, f"{name}.{prop} is an unbounded string"
        if schema.get("type") == "integer":
            assert "maximum" in schema or "enum" in schema, f"{name}.{prop} is unbounded"
    assert spec["example"]
    assert tool.validate(spec["example"]) == spec["example"]


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_tool_example_runs_under_the_empty_policy(
    call: Any, kernel: Kernel, name: str
) -> None:
    example = kernel.tools.get(name).example
    result = await call(name, example, SecurityPolicy())
    assert result


EXAMPLE_RESULTS: dict[str, Any] = {
    "regex_replace": {"text": "example: ann", "replacements": 1},
    "regex_split": {"parts": ["red", "green", "blue", "yellow"], "count": 4, "truncated": False},
    "template_render": "- apples: 3\n- pears: 5\n",
    "text_transform": {"text": "creme_brulee_recipe"},
    "hash": {
        "digest": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        "algorithm": "sha256",
        "encoding": "hex",
        "hmac": False,
        "bytes": 11,
    },
    "encode": {"text": "R3LDvMOfZSAmIDx0YWdzPg=="},
    "uuid": {"uuids": ["aad03681-8b63-5304-89e0-8ca8f49461b5"]},
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_RESULTS))
async def test_example_results(call: Any, kernel: Kernel, name: str) -> None:
    assert await call(name, kernel.tools.get(name).example) == EXAMPLE_RESULTS[name]


def test_importing_the_plugin_stays_cheap() -> None:
    code = (
        "import sys, llmspell_tools_text.plugin\n"
        "heavy = ['regex', 'jinja2', 'slugify', 'text_unidecode', 'llmspell_tools_text.sandbox']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
