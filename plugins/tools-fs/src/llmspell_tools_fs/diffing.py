"""``file_diff``: a unified diff of two text files inside the roots."""

from __future__ import annotations

import os
from typing import Any

import trio

from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.paths import (
    check_encoding,
    integer,
    open_regular,
    raise_os,
    read_bounded,
    resolve,
    tool_error,
)

CATEGORY = "files"

#: Largest file ``file_diff`` compares.
MAX_INPUT_BYTES = 2 * 1024 * 1024
#: Most lines of a file ``file_diff`` compares.
MAX_INPUT_LINES = 50_000
#: Longest diff text returned (``max_chars`` may ask for less).
MAX_OUTPUT_CHARS = 100_000
#: Most context lines around each change.
MAX_CONTEXT = 100

_NO_NEWLINE = "\\ No newline at end of file\n"


@tool(
    name="file_diff",
    description="Compare two text files inside the allowed roots and return a unified diff "
    '(like `diff -u`). Returns {"old_path", "new_path", "identical", "binary", "diff", '
    '"added", "removed", "truncated"}: `added`/`removed` count changed lines, `diff` is empty '
    "when the files are identical, and binary files (a NUL byte) are only compared for "
    f"equality. Files of at most {MAX_INPUT_BYTES} bytes and {MAX_INPUT_LINES} lines; the diff "
    f"text is cut at {MAX_OUTPUT_CHARS} characters (`max_chars` may lower it).",
    category=CATEGORY,
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "old_path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The original file (the '-' side).",
            },
            "new_path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The changed file (the '+' side).",
            },
            "context_lines": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_CONTEXT,
                "default": 3,
                "description": "Unchanged lines shown around each change.",
            },
            "encoding": {
                "type": "string",
                "default": "utf-8",
                "maxLength": 64,
                "description": "Text encoding of both files (undecodable bytes become U+FFFD).",
            },
            "max_chars": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_OUTPUT_CHARS,
                "default": MAX_OUTPUT_CHARS,
                "description": "Longest diff text to return; `truncated` tells that it was cut.",
            },
        },
        "required": ["old_path", "new_path"],
        "additionalProperties": False,
    },
    example={"old_path": "notes/todo.txt", "new_path": "notes/done.txt"},
)
async def file_diff(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_diff"
    encoding = check_encoding(name, args.get("encoding", "utf-8"))
    context = integer(args, "context_lines", 3)
    max_chars = integer(args, "max_chars", MAX_OUTPUT_CHARS)
    policy = ctx.policy
    old_shown, new_shown = args["old_path"], args["new_path"]

    def work() -> dict[str, Any]:
        old_path = resolve(policy, old_shown)
        new_path = resolve(policy, new_shown)
        old = _read(old_path, old_shown)
        new = _read(new_path, new_shown)
        out: dict[str, Any] = {
            "old_path": str(old_path),
            "new_path": str(new_path),
            "identical": old == new,
            "binary": b"\0" in old or b"\0" in new,
            "diff": "",
            "added": 0,
            "removed": 0,
            "truncated": False,
        }
        if out["identical"] or out["binary"]:
            return out
        old_lines = _lines(old, encoding, old_shown)
        new_lines = _lines(new, encoding, new_shown)
        _unified(out, old_lines, new_lines, old_shown, new_shown, context, max_chars)
        return out

    return await trio.to_thread.run_sync(work)


def _read(path: Any, shown: str) -> bytes:
    fd, st = open_regular("file_diff", path, shown)
    try:
        if st.st_size > MAX_INPUT_BYTES:
            raise _too_large(shown)
        data = read_bounded(fd, MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise_os("file_diff", exc, shown)
    finally:
        os.close(fd)
    if len(data) > MAX_INPUT_BYTES:
        raise _too_large(shown)
    return data


def _too_large(shown: str) -> Exception:
    return tool_error("file_diff", f"{shown!r} is larger than the {MAX_INPUT_BYTES} bytes that "
                      "may be compared", "too_large", path=shown, limit=MAX_INPUT_BYTES)


def _lines(data: bytes, encoding: str, shown: str) -> list[str]:
    text = data.decode(encoding, "replace")
    # split at "\n" only (as diff does; str.splitlines would also split at form feeds ...)
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    if len(lines) > MAX_INPUT_LINES:
        raise tool_error("file_diff", f"{shown!r} has more than the {MAX_INPUT_LINES} lines that "
                         "may be compared", "too_large", path=shown, limit=MAX_INPUT_LINES)
    return lines


def _unified(out: dict[str, Any], old: list[str], new: list[str], old_name: str,
             new_name: str, context: int, max_chars: int) -> None:
    import difflib

    pieces: list[str] = []
    used = 0
    diff = difflib.unified_diff(old, new, fromfile=old_name, tofile=new_name, n=context)
    for index, line in enumerate(diff):
        header = index < 2 or line.startswith("@@")  # the '---'/'+++' pair comes first, once
        if not header and line.startswith("+"):
            out["added"] += 1
        elif not header and line.startswith("-"):
            out["removed"] += 1
        if not line.endswith(("\n", "\r")):
            line += "\n" + _NO_NEWLINE
        if out["truncated"]:
            continue
        if used + len(line) > max_chars:
            out["truncated"] = True
            continue
        pieces.append(line)
        used += len(line)
    out["diff"] = "".join(pieces)
