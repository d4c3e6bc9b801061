"""``file_search``: grep over the files of a directory tree inside the roots.

Patterns are compiled with the third-party ``regex`` module, whose ``timeout=`` argument stops a
catastrophically backtracking pattern; the whole search shares one deadline.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.listing import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    MAX_GLOB_CHARS,
)
from llmspell_tools_fs.paths import (
    integer,
    invalid_arg,
    resolve,
)

CATEGORY = "files"

#: Most matches one search returns.
MAX_MATCHES = 1000
#: Default of ``max_matches``.
DEFAULT_MATCHES = 100
#: Largest file searched; larger ones are skipped (``max_file_bytes`` may lower it).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Most files one search reads.
MAX_FILES = 20_000
#: Time budget of one search in seconds (``timeout_seconds`` may lower it).
MAX_SECONDS = 10.0
#: Longest line text returned for a match (a window around the match for longer lines).
MAX_LINE_CHARS = 500
#: Longest pattern.
MAX_PATTERN_CHARS = 1000
#: Most skipped files listed by name (all are counted).
MAX_SKIPPED_LISTED = 100
#: Bytes looked at to tell a binary file (one with a NUL byte) from text.
BINARY_SNIFF_BYTES = 8192

# Patterns that may match differently inside a whole text than inside one line: these are
# searched line by line without the whole-text prefilter.
_CONTEXT_SENSITIVE = ("\\A", "\\Z", "\\z", "\\G", "(?<", "(?=", "(?!", "(?|")


@tool(
    name="file_search",
    description="Search the text files under a directory (or one file) inside the allowed roots "
    "for a regular expression, line by line, like grep. Returns {\"path\", \"matches\": "
    '[{"path" (relative to the searched directory), "line" (1-based), "column" (1-based), '
    '"text"}], "count", "truncated", "files_searched", "skipped": [{"path", "reason"}], '
    '"skipped_count"}. Binary files (a NUL byte in their first 8 KiB), files larger than '
    f"`max_file_bytes` (at most {MAX_FILE_BYTES}) and symlinks leading out of the roots are "
    f"skipped. At most {MAX_MATCHES} matches, {MAX_FILES} files and {MAX_SECONDS:g} s (then a "
    f"`timeout` error); line texts are cut to {MAX_LINE_CHARS} characters. Patterns use "
    "Python `regex` syntax.",
    category=CATEGORY,
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN_CHARS,
                "description": "The regular expression to look for in each line, e.g. "
                "'TODO|FIXME' or 'def \\w+\\('.",
            },
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "default": ".",
                "description": "The directory (or single file) to search; default: the current "
                "directory.",
            },
            "glob": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_GLOB_CHARS,
                "description": "Only search files matching this glob ('*.py', '*.{md,txt}', "
                "'src/**/*.py' for paths).",
            },
            "recursive": {
                "type": "boolean",
                "default": True,
                "description": "Also search subdirectories (symlinked directories are not "
                "entered).",
            },
            "max_depth": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_DEPTH,
                "default": DEFAULT_DEPTH,
                "description": "How many directory levels to search (1 = only the directory's "
                "own files).",
            },
            "case_insensitive": {
                "type": "boolean",
                "default": False,
                "description": "Ignore letter case.",
            },
            "include_hidden": {
                "type": "boolean",
                "default": False,
                "description": "Also search files and directories whose names start with '.'.",
            },
            "max_matches": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_MATCHES,
                "default": DEFAULT_MATCHES,
                "description": "Stop after this many matching lines (`truncated` is then true).",
            },
            "max_file_bytes": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_FILE_BYTES,
                "default": MAX_FILE_BYTES,
                "description": "Skip files larger than this many bytes.",
            },
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_SECONDS,
                "default": MAX_SECONDS,
                "description": "Time budget of the whole search in seconds; when it runs out "
                "the call fails with a `timeout` error.",
            },
        },
        "required": ["pattern"],
        "additionalProperties": False,
    },
    example={"pattern": "TODO|FIXME", "path": "notes", "glob": "*.txt",
             "case_insensitive": True},
)
async def file_search(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    import regex

    from llmspell_tools_fs.grep import Search
    from llmspell_tools_fs.walk import Walk, compile_glob

    name = "file_search"
    flags = regex.IGNORECASE if args.get("case_insensitive") else 0
    source: str = args["pattern"]
    try:
        exact = regex.compile(source, flags)
        whole = regex.compile(source, flags | regex.MULTILINE)
    except (regex.error, ValueError, OverflowError) as exc:
        raise invalid_arg(name, "pattern", f"is not a valid regular expression: {exc}") from None
    prefilter = None if any(s in source for s in _CONTEXT_SENSITIVE) else whole
    glob = compile_glob(name, "glob", args["glob"]) if "glob" in args else None
    depth = integer(args, "max_depth", DEFAULT_DEPTH) if args.get("recursive", True) else 1
    search = Search(
        exact=exact,
        prefilter=prefilter,
        max_matches=integer(args, "max_matches", DEFAULT_MATCHES),
        max_file_bytes=integer(args, "max_file_bytes", MAX_FILE_BYTES),
        seconds=float(args.get("timeout_seconds", MAX_SECONDS)),
    )
    policy, shown = ctx.policy, args.get("path", ".")
    hidden = bool(args.get("include_hidden", False))

    def work() -> dict[str, Any]:
        top = resolve(policy, shown)
        try:
            st = os.stat(top)
        except FileNotFoundError:
            raise LlmspellError("not_found", f"tool {name!r}: no file or directory {shown!r}",
                                {"tool": name, "path": shown}) from None
        search.start()
        if stat.S_ISDIR(st.st_mode):
            walk = Walk(top, max_depth=depth, include_hidden=hidden)
            for entry in walk:
                if glob is not None and not glob(entry):
                    continue
                if not search.entry(entry, policy):
                    break
            truncated_walk = walk.truncated
        else:
            search.file(top, top.name)
            truncated_walk = False
        return {
            "path": str(top),
            "pattern": source,
            "matches": search.matches,
            "count": len(search.matches),
            "truncated": search.truncated or truncated_walk,
            "files_searched": search.files,
            "skipped": search.skipped[:MAX_SKIPPED_LISTED],
            "skipped_count": len(search.skipped),
        }

    return await trio.to_thread.run_sync(work)
