"""The plugin registers exactly its tools, with complete specs and examples that run."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from typing import Any

import pytest
from tools_fs_support import FS

from llmspell.kernel import Kernel
from llmspell.tools import PERMISSIONS
from llmspell_tools_fs.plugin import TOOLS

TOOL_NAMES = sorted(
    [
        "archive_create",
        "archive_extract",
        "archive_list",
        "dir_create",
        "file_copy",
        "file_delete",
        "file_diff",
        "file_list",
        "file_move",
        "file_read",
        "file_search",
        "file_stat",
        "file_write",
    ]
)

PERMISSIONS_OF = {
    "archive_create": ["fs_read", "fs_write"],
    "archive_extract": ["fs_read", "fs_write"],
    "archive_list": ["fs_read"],
    "dir_create": ["fs_write"],
    "file_copy": ["fs_read", "fs_write"],
    "file_delete": ["fs_write"],
    "file_diff": ["fs_read"],
    "file_list": ["fs_read"],
    "file_move": ["fs_write"],
    "file_read": ["fs_read"],
    "file_search": ["fs_read"],
    "file_stat": ["fs_read"],
    "file_write": ["fs_write"],
}


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-fs" in kernel.plugins
    info = kernel.plugins["tools-fs"]
    assert info.package == "llmspell-tools-fs"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-fs"]
    assert kernel.components("tools-fs") == {"tools": TOOL_NAMES}
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-fs"
    assert sorted(TOOLS) == TOOL_NAMES


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-fs"})
    assert "tools-fs" not in kernel.plugins
    for name in TOOL_NAMES:
        assert name not in kernel.tools


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    tool.check_schema()
    spec = tool.spec()
    assert spec["category"] == "files"
    assert spec["permissions"] == PERMISSIONS_OF[name]
    assert set(spec["permissions"]) <= PERMISSIONS
    assert spec["requires_approval"] is (name == "file_delete")
    description = spec["description"]
    assert len(description) > 80 and "Returns" in description
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert "required" in params
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
        if schema.get("type") == "string" and "enum" not in schema:
            assert "maxLength" in schema, f"{name}.{prop} has no maxLength"
        if schema.get("type") in ("integer", "number"):
            assert "maximum" in schema, f"{name}.{prop} has no maximum"
    assert spec["example"]
    assert tool.validate(spec["example"]) == spec["example"]


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_tool_example_runs(fs: FS, name: str) -> None:
    if name in ("archive_list", "archive_extract"):
        with zipfile.ZipFile("notes.zip", "w") as zf:
            zf.writestr("notes/todo.txt", "TODO buy milk\n")
    example: dict[str, Any] = fs.kernel.tools.get(name).example or {}
    result = await fs.call(name, example)
    assert isinstance(result, dict) and result
    checks = {
        "file_read": lambda r: r["content"] == "TODO buy milk\nfix the bike\n",
        "file_write": lambda r: r["bytes_written"] == len("buy milk\n"),
        "file_list": lambda r: [e["path"] for e in r["entries"]] == ["done.txt", "old.txt",
                                                                     "todo.txt"],
        "file_search": lambda r: [(m["path"], m["line"]) for m in r["matches"]] == [
            ("todo.txt", 1)],
        "file_stat": lambda r: r["type"] == "file" and len(r["sha256"]) == 64,
        "file_move": lambda r: (fs.work / "notes" / "todo-old.txt").exists(),
        "file_copy": lambda r: (fs.work / "notes" / "todo-copy.txt").exists(),
        "file_delete": lambda r: not (fs.work / "notes" / "old.txt").exists(),
        "dir_create": lambda r: (fs.work / "notes" / "archive" / "2024").is_dir(),
        "archive_create": lambda r: r["files"] == 3 and zipfile.is_zipfile("notes.zip"),
        "archive_extract": lambda r: (fs.work / "restored" / "notes" / "todo.txt").exists(),
        "archive_list": lambda r: [e["name"] for e in r["entries"]] == ["notes/todo.txt"],
        "file_diff": lambda r: r["identical"] is False and "-TODO buy milk" in r["diff"],
    }
    assert checks[name](result), result


def test_importing_the_plugin_stays_cheap() -> None:
    code = (
        "import sys, llmspell.tools, llmspell.lifecycle\n"
        "before = set(sys.modules)\n"
        "import llmspell_tools_fs.plugin\n"
        "new = set(sys.modules) - before\n"
        "heavy = {'regex', 'tarfile', 'zipfile', 'difflib', 'hashlib', 'shutil', 'lzma', 'bz2',\n"
        "         'llmspell_tools_fs.archive_io', 'llmspell_tools_fs.walk',\n"
        "         'llmspell_tools_fs.grep'}\n"
        "print(sorted(new & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
