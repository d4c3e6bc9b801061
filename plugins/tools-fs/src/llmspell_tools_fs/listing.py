"""``file_list``: listing a directory (tree) inside the roots; the walk itself is in
:mod:`llmspell_tools_fs.walk`."""

from __future__ import annotations

from typing import Any

import trio

from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.paths import (
    integer,
)

CATEGORY = "files"

#: Most entries ``file_list`` returns (``max_entries`` may ask for fewer).
MAX_ENTRIES = 10_000
#: Default of ``max_entries``.
DEFAULT_ENTRIES = 1000
#: Deepest recursion a walk may ask for (1 = the directory's own entries).
MAX_DEPTH = 64
#: Default depth of a recursive walk.
DEFAULT_DEPTH = 10
#: Most directory entries one walk looks at, matching or not (bounds the time of a walk whose
#: pattern matches little in a huge tree).
MAX_SCANNED = 200_000
#: Longest glob pattern.
MAX_GLOB_CHARS = 500


@tool(
    name="file_list",
    description="List a directory inside the allowed roots, optionally recursively and filtered "
    'by a glob. Returns {"path", "entries": [{"name", "path" (relative to the listed '
    'directory), "type" (file/dir/symlink/other), "size" (null for directories), "modified" '
    '(ISO 8601 UTC)}], "count", "truncated"}, in name order (depth first). Symlinks are listed '
    "as symlinks and never descended into; hidden names (leading '.') are skipped unless "
    f"`include_hidden`. At most {MAX_ENTRIES} entries and {MAX_DEPTH} levels; a walk looks at "
    f"most at {MAX_SCANNED} entries.",
    category=CATEGORY,
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "default": ".",
                "description": "The directory to list (default: the current directory).",
            },
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_GLOB_CHARS,
                "description": "Only list entries matching this glob: '*.py', 'data_??.csv', "
                "'*.{md,txt}'; with a '/' it is matched against the relative path, where '**' "
                "spans directories ('src/**/*.py'). Directories are still descended into.",
            },
            "recursive": {
                "type": "boolean",
                "default": False,
                "description": "Also list the contents of subdirectories.",
            },
            "max_depth": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_DEPTH,
                "default": DEFAULT_DEPTH,
                "description": "With `recursive`, how many levels to descend (1 = only the "
                "directory's own entries).",
            },
            "max_entries": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ENTRIES,
                "default": DEFAULT_ENTRIES,
                "description": "Most entries to return; `truncated` tells that more exist.",
            },
            "include_hidden": {
                "type": "boolean",
                "default": False,
                "description": "Also list (and descend into) names starting with '.'.",
            },
        },
        "required": [],
        "additionalProperties": False,
    },
    example={"path": "notes", "recursive": True, "pattern": "*.txt"},
)
async def file_list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_fs.walk import Walk, compile_glob, describe, open_directory

    name = "file_list"
    shown = args.get("path", ".")
    matches = compile_glob(name, "pattern", args["pattern"]) if "pattern" in args else None
    depth = integer(args, "max_depth", DEFAULT_DEPTH) if args.get("recursive") else 1
    max_entries = integer(args, "max_entries", DEFAULT_ENTRIES)
    hidden = bool(args.get("include_hidden", False))
    policy = ctx.policy

    def work() -> dict[str, Any]:
        top = open_directory(name, policy, shown)
        walk = Walk(top, max_depth=depth, include_hidden=hidden)
        entries: list[dict[str, Any]] = []
        truncated = False
        for entry in walk:
            if matches is not None and not matches(entry):
                continue
            if len(entries) >= max_entries:
                truncated = True
                break
            entries.append(describe(entry))
        return {
            "path": str(top),
            "entries": entries,
            "count": len(entries),
            "truncated": truncated or walk.truncated,
        }

    return await trio.to_thread.run_sync(work)

