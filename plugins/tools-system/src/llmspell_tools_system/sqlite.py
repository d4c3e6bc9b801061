"""``sqlite_query``: one SQL statement against a SQLite database file inside the policy's roots.

Contract:

- the file is opened read-only (``mode=ro`` URI) unless ``write`` is true, which needs the path
  inside a write root (``check_path(write=True)``); ``create`` additionally allows creating it;
- parameters are bound by SQLite (``?`` or ``:name``), never formatted into the text;
- an authorizer refuses ATTACH/DETACH (which also covers ``VACUUM INTO``, a way to write a file
  anywhere) and the ``load_extension`` function; extension loading is never enabled;
- a progress handler aborts the statement once its time is up (``timeout``) or the call is
  cancelled; the work runs in a worker thread;
- rows, and the bytes they hold, are bounded (``truncated`` says when rows were left out).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_system.errors import invalid_arg, tool_failed

if TYPE_CHECKING:
    import sqlite3

TOOL = "sqlite_query"
#: Default and largest number of rows returned.
DEFAULT_ROWS = 1000
MAX_ROWS = 10_000
#: Rows stop being collected once their cells hold about this many bytes (text as UTF-8,
#: blobs as base64).
MAX_RESULT_BYTES = 4 * 1024 * 1024
#: Default and largest ``timeout``, in seconds.
DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 300
#: Longest SQL text, in characters, and most parameters.
MAX_SQL_CHARS = 100_000
MAX_PARAMS = 1000
#: SQLite virtual-machine instructions between two checks of the time guard.
PROGRESS_STEPS = 1000
#: Longest wait for a lock held by another connection, in seconds.
MAX_BUSY_SECONDS = 5.0

_SCALAR = {"type": ["string", "number", "boolean", "null"]}


@attrs.define
class Guard:
    """Why SQLite was told to stop: the deadline passed, the call was cancelled or the
    authorizer refused an action."""

    deadline: float
    cancelled: threading.Event = attrs.field(factory=threading.Event)
    timed_out: bool = False
    denied: str | None = None

    def progress(self) -> int:
        """Progress handler: non-zero aborts the running statement."""
        if self.cancelled.is_set():
            return 1
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return 1
        return 0

    def authorize(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, src: str | None
    ) -> int:
        """Authorizer: deny ATTACH/DETACH (VACUUM INTO attaches too) and load_extension()."""
        import sqlite3

        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            self.denied = "ATTACH DATABASE" if action == sqlite3.SQLITE_ATTACH else "DETACH"
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() == "load_extension":
            self.denied = "load_extension()"
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK


def _cell(value: Any) -> tuple[Any, int]:
    """A cell as JSON data and its approximate size in bytes."""
    if isinstance(value, bytes):
        import base64

        encoded = base64.b64encode(value).decode("ascii")
        return {"base64": encoded}, len(encoded) + 12
    if isinstance(value, str):
        return value, len(value.encode("utf-8", "replace")) + 2
    return value, 8


def _uri(path: Path, mode: str) -> str:
    import urllib.parse

    return f"file:{urllib.parse.quote(str(path), safe='/')}?mode={mode}"


def _sqlite_error(exc: Exception, guard: Guard, write: bool, timeout: float) -> LlmspellError:
    """Map a sqlite3 exception to the error the caller sees."""
    import sqlite3

    message = str(exc)
    if guard.denied is not None:
        return LlmspellError(
            "permission_denied",
            f"tool {TOOL!r}: {guard.denied} is not allowed",
            {"tool": TOOL, "argument": "sql", "action": guard.denied},
            hint="query one database file per call; extensions cannot be loaded",
        )
    if guard.timed_out:
        return LlmspellError(
            "timeout",
            f"tool {TOOL!r}: the statement did not finish within {timeout:g} s and was aborted",
            {"tool": TOOL, "reason": "timeout", "timeout": timeout},
            hint="raise the timeout argument or make the query cheaper (LIMIT, indexes)",
        )
    name = getattr(exc, "sqlite_errorname", None) or ""
    if isinstance(exc, sqlite3.ProgrammingError | sqlite3.Warning):
        if "one statement" in message:
            return invalid_arg(TOOL, "sql", f"{message} Send one statement per call.")
        if "binding" in message or "bindings" in message:
            return invalid_arg(TOOL, "params", message)
        return invalid_arg(TOOL, "sql", message)
    if name.startswith("SQLITE_READONLY"):
        hint = (
            "pass write: true for a database inside a write root"
            if not write
            else "the file or its directory is not writable"
        )
        return LlmspellError(
            "permission_denied",
            f"tool {TOOL!r}: {message}" + ("" if write else " (opened read-only)"),
            {"tool": TOOL, "argument": "write", "reason": "read_only"},
            hint=hint,
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return tool_failed(TOOL, "locked", message, sqlite_error=name)
    if name.startswith("SQLITE_CONSTRAINT") or isinstance(exc, sqlite3.IntegrityError):
        return tool_failed(TOOL, "constraint", message, sqlite_error=name)
    if name == "SQLITE_NOTADB":
        return tool_failed(TOOL, "not_a_database", message, sqlite_error=name)
    if name == "SQLITE_RANGE":
        return invalid_arg(TOOL, "params", message)
    if name == "SQLITE_ERROR" or (isinstance(exc, sqlite3.OperationalError) and not name):
        # SQLITE_ERROR is SQLite's "SQL error": syntax, unknown table or column, ...
        return invalid_arg(TOOL, "sql", message, sqlite_error=name or None)
    return tool_failed(TOOL, "sqlite", message, sqlite_error=name or None)


@attrs.define(frozen=True)
class Query:
    """One call's work, done in a worker thread by :meth:`run`."""

    path: Path
    sql: str
    params: list[Any] | dict[str, Any]
    write: bool
    create: bool
    max_rows: int
    timeout: float

    def run(self, guard: Guard) -> dict[str, Any]:
        import sqlite3

        mode = ("rwc" if self.create else "rw") if self.write else "ro"
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                _uri(self.path, mode),
                uri=True,
                isolation_level=None,  # autocommit: the one statement commits itself
                timeout=min(self.timeout, MAX_BUSY_SECONDS),
                check_same_thread=False,
            )
            conn.set_authorizer(guard.authorize)
            conn.set_progress_handler(guard.progress, PROGRESS_STEPS)
            before = conn.total_changes
            cursor = conn.execute(self.sql, self.params)
            columns = [d[0] for d in cursor.description or ()]
            rows: list[list[Any]] = []
            size = 0
            truncated = False
            while not truncated:
                batch = cursor.fetchmany(min(256, self.max_rows + 1 - len(rows)))
                if not batch:
                    break
                for raw in batch:
                    if len(rows) >= self.max_rows:
                        truncated = True
                        break
                    row = []
                    for value in raw:
                        cell, n = _cell(value)
                        row.append(cell)
                        size += n
                    if size > MAX_RESULT_BYTES:
                        truncated = True
                        break
                    rows.append(row)
            result: dict[str, Any] = {
                "columns": columns,
                "rows": rows,
                "rowcount": len(rows),
                "truncated": truncated,
            }
            cursor.close()  # finishes the statement (a truncated read stops it early)
            if self.write:
                result["changes"] = conn.total_changes - before
                result["last_row_id"] = cursor.lastrowid
            return result
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, guard, self.write, self.timeout) from None
        except sqlite3.Warning as exc:  # Python 3.11: more than one statement
            raise _sqlite_error(exc, guard, self.write, self.timeout) from None
        except OverflowError as exc:  # an integer parameter beyond 64 bits
            raise invalid_arg(TOOL, "params", str(exc)) from None
        finally:
            if conn is not None:
                conn.close()


def _check_database(ctx: ToolContext, path: str, write: bool, create: bool) -> Path:
    resolved: Path = ctx.policy.check_path(path, write=write)
    if resolved.is_dir():
        raise invalid_arg(TOOL, "path", f"{path!r} is a directory, not a database file")
    if not resolved.exists():
        if create and resolved.parent.is_dir():
            return resolved
        raise LlmspellError(
            "not_found",
            f"tool {TOOL!r}: argument 'path': database file {path!r} does not exist",
            {"tool": TOOL, "argument": "path", "path": path},
            hint=None if write else "pass write: true and create: true to create a database",
        )
    return resolved


@tool(
    name=TOOL,
    description="Run one SQL statement on a SQLite database file and return its result. "
    'Returns {"columns": [names], "rows": [[values]], "rowcount": rows returned, "truncated": '
    'bool} and, when write is true, "changes" (rows inserted, updated or deleted) and '
    '"last_row_id"; blob values come back as {"base64": "..."}. The file must be inside the '
    "policy's read roots and is opened read-only, unless write is true and it lies inside a "
    "write root. Values go in params (bound to ? or :name placeholders, never pasted into the "
    "SQL). ATTACH/DETACH, VACUUM INTO and loading extensions are refused. At most max_rows "
    f"rows (default {DEFAULT_ROWS}, at most {MAX_ROWS}) and about {MAX_RESULT_BYTES} bytes "
    f"are returned; a statement running past timeout (default {DEFAULT_TIMEOUT_SECONDS} s, at "
    f"most {MAX_TIMEOUT_SECONDS} s) is aborted with code 'timeout'.",
    category="system",
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": "The database file (relative to the current directory), "
                "inside the policy's roots.",
                "minLength": 1,
                "maxLength": 4096,
            },
            "sql": {
                "type": "string",
                "description": "Exactly one SQL statement, with ? or :name placeholders for "
                f"values (at most {MAX_SQL_CHARS} characters).",
                "minLength": 1,
                "maxLength": MAX_SQL_CHARS,
            },
            "params": {
                "type": ["array", "object"],
                "description": "Values for the placeholders: a list for ?, an object for "
                ":name (strings, numbers, booleans as 1/0, null). Default: none.",
                "items": _SCALAR,
                "additionalProperties": _SCALAR,
                "maxItems": MAX_PARAMS,
                "maxProperties": MAX_PARAMS,
                "default": [],
            },
            "write": {
                "type": "boolean",
                "description": "Open the database read-write; the path must be inside a write "
                "root (default false: read-only).",
                "default": False,
            },
            "create": {
                "type": "boolean",
                "description": "With write: create the database file if it does not exist "
                "(default false).",
                "default": False,
            },
            "max_rows": {
                "type": "integer",
                "description": f"Most rows returned (default {DEFAULT_ROWS}, at most "
                f"{MAX_ROWS}); more rows set truncated.",
                "minimum": 1,
                "maximum": MAX_ROWS,
                "default": DEFAULT_ROWS,
            },
            "timeout": {
                "type": "number",
                "description": f"Seconds the statement may run (default "
                f"{DEFAULT_TIMEOUT_SECONDS}, at most {MAX_TIMEOUT_SECONDS}).",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": DEFAULT_TIMEOUT_SECONDS,
            },
        },
        "required": ["path", "sql"],
        "additionalProperties": False,
    },
    example={
        "path": "data/app.db",
        "sql": "SELECT name FROM sqlite_master WHERE type = ? ORDER BY name",
        "params": ["table"],
    },
)
async def sqlite_query(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    write = bool(args.get("write", False))
    create = bool(args.get("create", False))
    if create and not write:
        raise invalid_arg(TOOL, "create", "create needs write: true")
    if "\0" in args["path"]:
        raise invalid_arg(TOOL, "path", "the path contains a NUL character")
    if "\0" in args["sql"]:
        raise invalid_arg(TOOL, "sql", "the SQL contains a NUL character")
    path = await trio.to_thread.run_sync(_check_database, ctx, args["path"], write, create)
    timeout = float(args.get("timeout", DEFAULT_TIMEOUT_SECONDS))
    params = args.get("params", [])
    query = Query(
        path=path,
        sql=args["sql"],
        params=list(params) if isinstance(params, list) else dict(params),
        write=write,
        create=create,
        max_rows=int(args.get("max_rows", DEFAULT_ROWS)),
        timeout=timeout,
    )
    guard = Guard(deadline=time.monotonic() + timeout)
    try:
        return await trio.to_thread.run_sync(query.run, guard, abandon_on_cancel=True)
    except trio.Cancelled:
        guard.cancelled.set()  # the abandoned thread's statement stops at its next check
        raise
