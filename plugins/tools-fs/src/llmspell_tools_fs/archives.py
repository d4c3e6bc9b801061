"""``archive_create``, ``archive_extract`` and ``archive_list``: zip and tar archives.

Extraction trusts nothing in the archive. Every entry is checked before anything is written:
names that are absolute, carry a drive letter or a ``..`` component, device files and FIFOs,
symlinks and hard links leading out of the destination, and entries written through a symlink
are refused (``tool_error``, reason ``unsafe_entry``); tar entries also pass through the
standard library's ``data`` filter. The number of entries and the bytes actually written are
bounded (a zip bomb fails with reason ``too_large``), and a failed extraction removes what it
had created.
"""

from __future__ import annotations

from typing import Any

import trio

from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.paths import integer, invalid_arg

CATEGORY = "files"

#: Archive formats ``archive_create`` writes (all of them are read).
FORMATS = ("zip", "tar", "tar.gz", "tar.bz2", "tar.xz")
#: Most entries an archive may have to be created or extracted (and that a listing returns).
MAX_ENTRIES = 10_000
#: Default of ``max_entries`` in ``archive_list``.
DEFAULT_LIST_ENTRIES = 1000
#: Most bytes (uncompressed) that one ``archive_create`` reads or one ``archive_extract``
#: writes; ``max_bytes`` may lower it.
MAX_BYTES = 512 * 1024 * 1024
#: Most declared entry bytes that ``archive_list`` skips over in a compressed tar before it
#: stops (a tar.gz must be decompressed to be listed).
MAX_LIST_SCAN_BYTES = 2 * 1024 * 1024 * 1024
#: Longest symlink target stored in a zip entry.
MAX_LINK_CHARS = 4096
#: Most sources ``archive_create`` takes.
MAX_SOURCES = 1000

_EXTENSIONS = (
    (".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".tbz2", "tar.bz2"),
    (".tar.xz", "tar.xz"), (".txz", "tar.xz"), (".tar", "tar"), (".zip", "zip"),
)


def format_from_name(path: str) -> str | None:
    """The archive format its file name implies, or ``None``."""
    lower = path.lower()
    for suffix, fmt in _EXTENSIONS:
        if lower.endswith(suffix):
            return fmt
    return None


@tool(
    name="archive_list",
    description="List the entries of a zip or tar archive (tar, tar.gz, tar.bz2, tar.xz; the "
    "format is detected from the content) inside the allowed roots without extracting it. "
    'Returns {"path", "format", "entries": [{"name", "type" (file/dir/symlink/hardlink/other), '
    '"size", "modified", "compressed_size" (zip), "link_target", "unsafe" (why archive_extract '
    'would refuse the entry, if it would)}], "count", "total_size", "truncated"}. At most '
    f"{MAX_ENTRIES} entries.",
    category=CATEGORY,
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The archive file.",
            },
            "max_entries": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ENTRIES,
                "default": DEFAULT_LIST_ENTRIES,
                "description": "Most entries to return; `truncated` tells that more exist.",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
    example={"path": "notes.zip"},
)
async def archive_list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    policy, shown = ctx.policy, args["path"]
    limit = integer(args, "max_entries", DEFAULT_LIST_ENTRIES)

    from llmspell_tools_fs import archive_io

    return await trio.to_thread.run_sync(
        lambda: archive_io.list_archive(policy, shown, limit)
    )


@tool(
    name="archive_extract",
    description="Extract a zip or tar archive (tar, tar.gz, tar.bz2, tar.xz; detected from the "
    "content) into a directory inside the write roots, creating the directory if needed. "
    'Returns {"path", "destination", "format", "entries", "files", "directories", "links", '
    '"bytes"}. Refused before anything is written (reason "unsafe_entry"): entries with '
    "absolute names, drive letters or '..', device files and FIFOs, symlinks or hard links "
    "leading out of the destination, entries written through a symlink. Existing files are "
    f"replaced only with `overwrite: true`. At most {MAX_ENTRIES} entries and {MAX_BYTES} "
    "bytes actually written (a zip bomb fails with reason \"too_large\"); a failed extraction "
    "removes what it created. Permission bits are kept without setuid/setgid and "
    "group/other write.",
    category=CATEGORY,
    permissions={"fs_read", "fs_write"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The archive file (inside the read or write roots).",
            },
            "destination": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The directory to extract into (inside the write roots; created "
                "with its parents if missing).",
            },
            "overwrite": {
                "type": "boolean",
                "default": False,
                "description": "Replace existing files (otherwise an existing file is an error "
                "and nothing is extracted).",
            },
            "max_entries": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ENTRIES,
                "default": MAX_ENTRIES,
                "description": "Refuse archives with more entries than this.",
            },
            "max_bytes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_BYTES,
                "default": MAX_BYTES,
                "description": "Refuse (and undo) an extraction that would write more bytes "
                "than this.",
            },
        },
        "required": ["path", "destination"],
        "additionalProperties": False,
    },
    example={"path": "notes.zip", "destination": "restored"},
)
async def archive_extract(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    policy = ctx.policy
    shown, dest_shown = args["path"], args["destination"]
    overwrite = bool(args.get("overwrite", False))
    max_entries = integer(args, "max_entries", MAX_ENTRIES)
    max_bytes = integer(args, "max_bytes", MAX_BYTES)

    from llmspell_tools_fs import archive_io

    return await trio.to_thread.run_sync(
        lambda: archive_io.extract_archive(policy, shown, dest_shown, overwrite, max_entries,
                                           max_bytes)
    )


@tool(
    name="archive_create",
    description="Create a zip or tar archive (tar, tar.gz, tar.bz2, tar.xz) inside the write "
    "roots from files and directories inside the allowed roots. Each source is stored under "
    "its own name (a directory with everything in it). Returns {\"path\", \"format\", "
    '"entries", "files", "directories", "bytes" (uncompressed), "size" (of the archive), '
    '"skipped": [{"path", "reason"}]}. Symlinks to files inside the roots are stored as '
    "those files; other symlinks and special files are skipped, so nothing outside the roots "
    f"is ever included. At most {MAX_ENTRIES} entries and {MAX_BYTES} bytes of input; an "
    "existing archive is replaced only with `overwrite: true`.",
    category=CATEGORY,
    permissions={"fs_read", "fs_write"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The archive to write (its directory must exist).",
            },
            "sources": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 4096},
                "minItems": 1,
                "maxItems": MAX_SOURCES,
                "description": "Files and directories to put in the archive, each stored under "
                "its last path component.",
            },
            "format": {
                "type": "string",
                "enum": list(FORMATS),
                "description": "The archive format; by default taken from the name of `path` "
                "(.zip, .tar, .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz).",
            },
            "overwrite": {
                "type": "boolean",
                "default": False,
                "description": "Replace an existing archive file.",
            },
            "max_bytes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_BYTES,
                "default": MAX_BYTES,
                "description": "Refuse if the sources hold more bytes than this.",
            },
        },
        "required": ["path", "sources"],
        "additionalProperties": False,
    },
    example={"path": "notes.zip", "sources": ["notes"]},
)
async def archive_create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "archive_create"
    policy, shown = ctx.policy, args["path"]
    fmt = args.get("format") or format_from_name(shown)
    if fmt is None:
        raise invalid_arg(name, "format", f"cannot tell the format from the name {shown!r}; "
                          f"pass one of {', '.join(FORMATS)}")
    sources: list[str] = args["sources"]
    overwrite = bool(args.get("overwrite", False))
    max_bytes = integer(args, "max_bytes", MAX_BYTES)

    from llmspell_tools_fs import archive_io

    return await trio.to_thread.run_sync(
        lambda: archive_io.create_archive(policy, shown, sources, fmt, overwrite, max_bytes)
    )
