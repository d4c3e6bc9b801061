"""The run log: every recorded run, its events and its model replies, in ``.llmspell/runs.db``.

One SQLite file (WAL mode, a ``busy_timeout``, every call in a worker thread) with three tables:

- ``runs``: one row per run: ``run_id``, ``name`` (the spell's path), ``engine`` (``lua``,
  ``js``, ``workflow`` ...), ``session``, ``args`` (JSON), ``source`` (the spell's text, so a
  replay runs exactly what ran), ``started_at``/``finished_at`` (Unix seconds), ``status``
  (``running``, ``ok``, ``failed``, ``cancelled``), ``error`` and ``result`` (JSON), the tokens
  and cost of its model calls (summed over ``llm.response`` events), ``replay_of`` (the run a
  replay replayed) and its numbers of events and model replies;
- ``run_events``: every event of a run: ``seq``, ``topic``, ``timestamp``, ``parent`` (the
  ``seq`` of the event that opened the operation it happened in, see :mod:`llmspell.operations`;
  ``NULL`` at the top level) and ``data`` (JSON);
- ``run_replies``: every provider reply of a run in call order: ``index``, ``model`` (the model
  string), ``digest`` (SHA-256 of the normalized request, :func:`request_digest`), ``stream``,
  and ``response`` (JSON: ``message``, ``usage``, ``finish_reason``, ``model``, for streams the
  text ``chunks``; a failed call: ``{"error": {code, message, details}}``).

Recording a run (``llmspell run`` and ``exec`` do it for every run)::

    async with RunLog.open(path) as log:
        async with log.record(source=text, engine="lua") as recorder:
            async with SpellRun.open(kernel, name="x.lua") as run:
                run.result = await engine.run(text, "x.lua", run)
        print(recorder.run_id)

:meth:`RunLog.record` attaches to the first :class:`~llmspell.runtime.SpellRun` opened inside
its block (through :data:`llmspell.runtime.RUN_OBSERVERS`), so it sees ``spell.started``, the
final status and the result after the ``spell_end`` hooks. Recording never fails a run: event
data that is not JSON is stored as text, and a database that cannot be written is reported in
:attr:`RunRecorder.error` (and logged as a warning).

Retention: after each recorded run the log keeps its newest ``keep`` runs and drops runs older
than ``max_age_days`` (``[runs]`` in ``llmspell.toml``, see :class:`llmspell.config.RunSettings`).
"""

from __future__ import annotations

import json
import math
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import trio

from llmspell.config import DEFAULT_KEEP_RUNS
from llmspell.errors import LlmspellError
from llmspell.events import Event
from llmspell.operations import OPERATION
from llmspell.project import data_dir
from llmspell.sqlite_files import open_database, storage_error

if TYPE_CHECKING:
    import contextvars
    import sqlite3

    from llmspell.providers import ChatRequest, ChatResponse
    from llmspell.runtime import SpellRun

T = TypeVar("T")

__all__ = [
    "RUNS_FILE",
    "EventRecord",
    "ReplyRecord",
    "RunInfo",
    "RunLog",
    "RunRecorder",
    "default_runs_path",
    "json_safe",
    "recording",
    "request_digest",
    "to_json",
]

RUNS_FILE = "runs.db"
#: Version of the table layout, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 1
#: Events (and replies) a recorder holds before it hands them to its writer thread.
BATCH = 256
#: How deep :func:`json_safe` follows nested containers.
MAX_DEPTH = 64


def _warn(message: str, *args: Any) -> None:
    """A warning on the ``llmspell.runlog`` logger (stderr when logging is not set up)."""
    import logging  # only when something goes wrong (start-up time)

    logging.getLogger("llmspell.runlog").warning(message, *args)


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_id        TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        engine        TEXT,
        session       TEXT,
        args          TEXT NOT NULL,
        source        TEXT,
        started_at    REAL NOT NULL,
        finished_at   REAL,
        status        TEXT NOT NULL,
        error         TEXT,
        result        TEXT,
        input_tokens  INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost          REAL,
        replay_of     TEXT,
        events        INTEGER NOT NULL DEFAULT 0,
        replies       INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at)",
    "CREATE INDEX IF NOT EXISTS runs_session ON runs (session, started_at)",
    """CREATE TABLE IF NOT EXISTS run_events (
        run_id    TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        topic     TEXT NOT NULL,
        timestamp REAL NOT NULL,
        parent    INTEGER,
        data      TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS run_replies (
        run_id   TEXT NOT NULL,
        idx      INTEGER NOT NULL,
        model    TEXT NOT NULL,
        digest   TEXT NOT NULL,
        stream   INTEGER NOT NULL,
        response TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
    ) WITHOUT ROWID""",
)
_RUN_COLUMNS = (
    "run_id, name, engine, session, args, source, started_at, finished_at, status, error, "
    "result, input_tokens, output_tokens, cost, replay_of, events, replies"
)


def default_runs_path(project: str | os.PathLike[str]) -> Path:
    """Where a project's run log lives: ``<project>/.llmspell/runs.db``."""
    return data_dir(Path(project)) / RUNS_FILE


# --- JSON ---------------------------------------------------------------------------------------


def json_safe(value: Any, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> Any:
    """``value`` as JSON data, whatever it holds: objects with ``to_dict()`` (results, usage,
    messages) as their dict, tuples and sets as lists, bytes as ``{"bytes": size}``, non-finite
    floats and anything else as text; cycles and nesting deeper than :data:`MAX_DEPTH` are
    cut. Never raises."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _depth >= MAX_DEPTH:
        return "<too deep>"
    if id(value) in _seen:
        return "<cycle>"
    seen = _seen | {id(value)}
    try:
        if isinstance(value, dict):
            return {
                k if isinstance(k, str) else str(k): json_safe(v, _depth + 1, seen)
                for k, v in list(value.items())
            }
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
            return [json_safe(v, _depth + 1, seen) for v in list(items)]
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"bytes": len(value)}
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return json_safe(to_dict(), _depth + 1, seen)
        return repr(value)
    except Exception as exc:  # a broken __repr__ or to_dict: the run goes on
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"


def to_json(value: Any) -> str:
    """Compact JSON text of ``value``; what is not JSON data goes through :func:`json_safe`.
    Never raises."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError, RuntimeError):
        return json.dumps(json_safe(value), ensure_ascii=False, separators=(",", ":"))


def _from_json(text: str | None, what: str, path: Path) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LlmspellError(
            "state_error", f"run log {path} holds unreadable JSON in {what}: {exc}",
            {"path": str(path), "what": what},
        ) from exc


def request_digest(model: str, request: ChatRequest) -> str:
    """SHA-256 (hex) of model string ``model`` and every field of ``request`` but its
    ``model`` (the provider's own name, set after the hooks) as canonical JSON."""
    data = {
        "model": model,
        "messages": [m.to_dict() for m in request.messages],
        "tools": [[t.name, t.description, t.parameters] for t in request.tools],
        "tool_choice": request.tool_choice,
        "output_schema": request.output_schema,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "stop": list(request.stop),
    }
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        text = json.dumps(json_safe(data), sort_keys=True, separators=(",", ":"))
    import hashlib  # imported on the first model call recorded or replayed (start-up time)

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def response_dict(
    outcome: ChatResponse | LlmspellError, chunks: tuple[str, ...] | None
) -> dict[str, Any]:
    """A provider's reply (or failure) as stored in ``run_replies.response``."""
    if isinstance(outcome, LlmspellError):
        out: dict[str, Any] = {"error": outcome.to_dict()}
    else:
        out = {
            "message": outcome.message.to_dict(),
            "usage": outcome.usage.to_dict(),
            "finish_reason": outcome.finish_reason,
            "model": outcome.model,
        }
    if chunks is not None:
        out["chunks"] = list(chunks)
    return out


# --- records ------------------------------------------------------------------------------------


@attrs.frozen
class RunInfo:
    """One row of ``runs`` (see the module docstring)."""

    run_id: str
    name: str
    engine: str | None
    session: str | None
    args: Any
    source: str | None
    started_at: float
    finished_at: float | None
    status: str
    error: dict[str, Any] | None
    result: Any
    input_tokens: int
    output_tokens: int
    cost: float | None
    replay_of: str | None
    events: int
    replies: int

    @property
    def seconds(self) -> float | None:
        """How long the run took (``None`` while it runs)."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self, *, source: bool = False) -> dict[str, Any]:
        """JSON data; the spell's ``source`` only when asked."""
        out = attrs.asdict(self)
        if not source:
            del out["source"]
        out["seconds"] = None if self.seconds is None else round(self.seconds, 6)
        out["total_tokens"] = self.total_tokens
        return out


@attrs.frozen
class EventRecord:
    """One recorded event; ``parent`` is the ``seq`` of the event that opened the operation it
    happened in (``None``: the run's top level)."""

    seq: int
    topic: str
    timestamp: float
    parent: int | None
    data: Any

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class ReplyRecord:
    """One recorded provider reply (or failure), in call order."""

    index: int
    model: str
    digest: str
    stream: bool
    response: dict[str, Any]

    @property
    def error(self) -> LlmspellError | None:
        """The recorded failure, if the call failed."""
        err = self.response.get("error")
        if not isinstance(err, dict):
            return None
        return LlmspellError(str(err.get("code") or "provider_error"), str(err.get("message")),
                             dict(err.get("details") or {}))

    def to_response(self) -> ChatResponse:
        """The recorded reply as a :class:`~llmspell.providers.ChatResponse`."""
        from llmspell.messages import Message, Usage
        from llmspell.providers import ChatResponse

        data = self.response
        usage = data.get("usage") or {}
        return ChatResponse(
            Message.from_dict(data.get("message") or {"role": "assistant", "content": ""}),
            Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0),
                  usage.get("cost")),
            str(data.get("finish_reason") or "stop"),
            str(data.get("model") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


# --- the database -------------------------------------------------------------------------------


class _Database:
    """One connection to the run log file, used from worker threads one call at a time."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.closed = False

    def error(self, operation: str, exc: BaseException) -> LlmspellError:
        return storage_error("run log", self.path, operation, exc)

    def _connect(self) -> sqlite3.Connection:
        # a diagnostic log: no fsync (a run records in ~2 ms instead of ~20, the cost of the
        # checkpoint when the last connection closes); an application crash loses nothing, a
        # power cut just after a run may cost the log
        return open_database(self.path, schema=_SCHEMA, version=SCHEMA_VERSION,
                             busy_timeout=self.busy_timeout, synchronous="OFF")

    def call(
        self, operation: str, work: Callable[[sqlite3.Connection], T], *, create: bool = True,
        missing: Any = None,
    ) -> T:
        """``work(conn)`` in one transaction (blocking: call from a worker thread). Without
        ``create``, a file that does not exist yet gives ``missing`` (reads never create it)."""
        import sqlite3

        with self._lock:
            if self.closed:
                raise LlmspellError("state_error", f"run log {self.path} is closed",
                                    {"path": str(self.path)})
            if self._conn is None:
                if not create and not self.path.exists():
                    return missing
                try:
                    self._conn = self._connect()
                except (sqlite3.Error, OSError) as exc:
                    raise self.error("open", exc) from exc
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE" if create else "BEGIN")
                try:
                    out = work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return out
            except (sqlite3.Error, OSError) as exc:
                raise self.error(operation, exc) from exc

    def close(self) -> None:
        with self._lock:
            self.closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()


# --- the log ------------------------------------------------------------------------------------


def _check_session(session: str) -> str:
    from llmspell.state.scopes import SCOPE_NAME_RE

    if not isinstance(session, str) or not SCOPE_NAME_RE.fullmatch(session):
        raise LlmspellError(
            "invalid_value",
            f"invalid session name {session!r}: 1-128 characters of A-Z a-z 0-9 _ . -",
            {"session": repr(session)},
        )
    return session


class RunLog:
    """A run log file (created on first write; reads of a missing file find nothing).

    Open with ``async with RunLog.open(path) as log`` (or call :meth:`aclose`). Every method
    runs its SQLite work in a worker thread; a storage failure raises ``state_error`` naming
    the file. Run ids may be given as any unique prefix: an unknown one is ``not_found``, an
    ambiguous one ``invalid_args``, both naming it.

    ``keep`` and ``max_age_days`` are the retention :meth:`prune` applies after every run
    :meth:`record` records (``None``: no limit).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, keep: int | None = DEFAULT_KEEP_RUNS,
        max_age_days: float | None = None, busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.keep = keep
        self.max_age_days = max_age_days
        self._db = _Database(self.path, busy_timeout)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: str | os.PathLike[str], *, keep: int | None = DEFAULT_KEEP_RUNS,
        max_age_days: float | None = None,
    ) -> AsyncIterator[RunLog]:
        """A :class:`RunLog` on ``path``, closed on exit."""
        runlog = cls(path, keep=keep, max_age_days=max_age_days)
        try:
            yield runlog
        finally:
            with trio.CancelScope(shield=True):
                await runlog.aclose()

    async def aclose(self) -> None:
        """Close the connection (idempotent)."""
        await trio.to_thread.run_sync(self._db.close)

    async def _read(self, operation: str, work: Callable[[sqlite3.Connection], T],
                    missing: Any) -> T:
        return await trio.to_thread.run_sync(
            lambda: self._db.call(operation, work, create=False, missing=missing)
        )

    async def _write(self, operation: str, work: Callable[[sqlite3.Connection], T]) -> T:
        return await trio.to_thread.run_sync(lambda: self._db.call(operation, work))

    # --- reading ---------------------------------------------------------------------------

    def _info(self, row: tuple[Any, ...]) -> RunInfo:
        (run_id, name, engine, session, args, source, started, finished, status, error,
         result, tokens_in, tokens_out, cost, replay_of, events, replies) = row
        return RunInfo(
            run_id, name, engine, session, _from_json(args, f"the args of run {run_id}",
                                                      self.path),
            source, started, finished, status,
            _from_json(error, f"the error of run {run_id}", self.path),
            _from_json(result, f"the result of run {run_id}", self.path),
            tokens_in, tokens_out, cost, replay_of, events, replies,
        )

    async def list_runs(self, limit: int | None = 20, session: str | None = None) -> list[RunInfo]:
        """The newest ``limit`` runs (``None``: all), newest first; only those of ``session``
        when given (``invalid_value`` for a malformed session name)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise LlmspellError("invalid_value",
                                f"limit must be an integer of at least 1, got {limit!r}",
                                {"limit": repr(limit)})
        where, params = "", []
        if session is not None:
            where, params = "WHERE session = ?", [_check_session(session)]
        sql = f"SELECT {_RUN_COLUMNS} FROM runs {where} ORDER BY started_at DESC, rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = await self._read("list runs", lambda c: c.execute(sql, params).fetchall(), [])
        return [self._info(row) for row in rows]

    async def sessions(self) -> dict[str, dict[str, Any]]:
        """Every session with recorded runs: ``{name: {"runs", "first_run", "last_run",
        "input_tokens", "output_tokens", "cost"}}`` (times in Unix seconds)."""

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT session, COUNT(*), MIN(started_at), MAX(started_at), "
                "SUM(input_tokens), SUM(output_tokens), SUM(cost) FROM runs "
                "WHERE session IS NOT NULL GROUP BY session ORDER BY session"
            ).fetchall()

        rows = await self._read("list sessions", work, [])
        return {
            name: {"runs": runs, "first_run": first, "last_run": last,
                   "input_tokens": tokens_in or 0, "output_tokens": tokens_out or 0,
                   "cost": cost}
            for name, runs, first, last, tokens_in, tokens_out, cost in rows
        }

    async def resolve(self, run_id: str) -> str:
        """The full id of the one run whose id is ``run_id`` or starts with it."""
        if not isinstance(run_id, str) or not run_id.strip():
            raise LlmspellError("invalid_value", f"a run id must be a non-empty string, not "
                                f"{run_id!r}", {"run_id": repr(run_id)})

        def find(conn: sqlite3.Connection) -> list[str]:
            exact = conn.execute("SELECT run_id FROM runs WHERE run_id = ?", (run_id,)).fetchall()
            if exact:
                return [exact[0][0]]
            rows = conn.execute(
                "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY run_id LIMIT 11",
                (len(run_id), run_id),
            ).fetchall()
            return [r[0] for r in rows]

        found = await self._read("find a run", find, [])
        if not found:
            raise LlmspellError(
                "not_found", f"no recorded run {run_id!r} in {self.path}",
                {"kind": "run", "name": run_id, "path": str(self.path)},
                hint="llmspell runs list shows the recorded runs",
            )
        if len(found) > 1:
            shown = ", ".join(found[:10]) + (" ..." if len(found) > 10 else "")
            raise LlmspellError(
                "invalid_args",
                f"run id {run_id!r} is ambiguous: runs {shown} start with it",
                {"run_id": run_id, "matches": found[:10]},
                hint="give more digits of the run id",
            )
        return found[0]

    async def get_run(self, run_id: str) -> RunInfo:
        """The run ``run_id`` (or the one run whose id starts with it)."""
        full = await self.resolve(run_id)
        row = await self._read(
            "read a run",
            lambda c: c.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?",
                                (full,)).fetchone(),
            None,
        )
        if row is None:  # deleted meanwhile
            raise LlmspellError("not_found", f"no recorded run {run_id!r} in {self.path}",
                                {"kind": "run", "name": run_id, "path": str(self.path)})
        return self._info(row)

    async def events(self, run_id: str) -> list[EventRecord]:
        """The events of run ``run_id`` in emission order."""
        full = await self.resolve(run_id)
        rows = await self._read(
            "read events",
            lambda c: c.execute(
                "SELECT seq, topic, timestamp, parent, data FROM run_events WHERE run_id = ? "
                "ORDER BY seq", (full,)).fetchall(),
            [],
        )
        return [
            EventRecord(seq, topic, ts, parent,
                        _from_json(data, f"event {seq} of run {full}", self.path))
            for seq, topic, ts, parent, data in rows
        ]

    async def replies(self, run_id: str) -> list[ReplyRecord]:
        """The provider replies of run ``run_id`` in call order."""
        full = await self.resolve(run_id)
        rows = await self._read(
            "read replies",
            lambda c: c.execute(
                "SELECT idx, model, digest, stream, response FROM run_replies WHERE run_id = ? "
                "ORDER BY idx", (full,)).fetchall(),
            [],
        )
        return [
            ReplyRecord(idx, model, digest, bool(stream),
                        _from_json(resp, f"reply {idx} of run {full}", self.path))
            for idx, model, digest, stream, resp in rows
        ]

    # --- deleting --------------------------------------------------------------------------

    async def delete_runs(self, ids: Iterable[str]) -> list[str]:
        """Delete the runs ``ids`` (each an id or a unique prefix) with their events and
        replies; returns the full ids. Every id is checked before anything is deleted."""
        full = [await self.resolve(i) for i in ids]
        unique = list(dict.fromkeys(full))
        await self._write("delete runs", lambda c: _delete(c, unique))
        return unique

    async def prune(
        self, keep: int | None = None, max_age_days: float | None = None,
        *, now: float | None = None,
    ) -> list[str]:
        """Delete every run but the newest ``keep`` and every run started more than
        ``max_age_days`` days before ``now``; returns the ids deleted."""
        return await self._write("prune", lambda c: _prune(c, keep, max_age_days, now))

    # --- recording -------------------------------------------------------------------------

    def record(
        self, *, source: str | None = None, engine: str | None = None, name: str | None = None,
        args: Any = None, session: str | None = None, replay_of: str | None = None,
    ) -> RunRecorder:
        """A recorder for the first :class:`~llmspell.runtime.SpellRun` opened inside its
        ``async with`` block (see the module docstring). ``source`` and ``engine`` are what a
        replay needs; ``name``, ``args`` and ``session`` default to the run's. A block that
        fails before any run opens is recorded as a failed run of ``name``."""
        return RunRecorder(self, name=name, args=args, source=source, engine=engine,
                           session=session, replay_of=replay_of)


@asynccontextmanager
async def recording(
    kernel: Any, project: str | os.PathLike[str] | None, **fields: Any
) -> AsyncIterator[RunRecorder | None]:
    """Record the run opened inside the block into ``project``'s run log
    (:func:`default_runs_path`) with the ``[runs]`` settings of ``kernel.config``: how
    ``llmspell run`` and ``exec`` record every run. ``fields`` go to :meth:`RunLog.record`.
    Yields ``None`` (and records nothing) without a project or with ``[runs] record = false``.
    """
    settings = kernel.config.run_settings
    if project is None or not settings.record:
        yield None
        return
    async with RunLog.open(default_runs_path(project), keep=settings.keep,
                           max_age_days=settings.max_age_days) as runlog:
        async with runlog.record(**fields) as recorder:
            yield recorder


def _delete(conn: sqlite3.Connection, ids: list[str]) -> None:
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        marks = ",".join("?" * len(part))
        for table in ("run_events", "run_replies", "runs"):
            conn.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", part)


def _prune(conn: sqlite3.Connection, keep: int | None, max_age_days: float | None,
           now: float | None) -> list[str]:
    now = time.time() if now is None else now
    doomed: list[str] = []
    if keep is not None:
        # a run still running (in another process) is not pruned for being one too many in
        # its first day: its events would go while it records them
        doomed += [r[0] for r in conn.execute(
            "SELECT run_id, status, started_at FROM runs ORDER BY started_at DESC, rowid DESC "
            "LIMIT -1 OFFSET ?", (keep,)) if not (r[1] == "running" and r[2] > now - 86400)]
    if max_age_days is not None:
        cutoff = now - max_age_days * 86400
        doomed += [r[0] for r in conn.execute(
            "SELECT run_id FROM runs WHERE started_at < ?", (cutoff,))]
    doomed = list(dict.fromkeys(doomed))
    if doomed:
        _delete(conn, doomed)
    return doomed


# --- recording ----------------------------------------------------------------------------------


def _status(exc: BaseException | None) -> tuple[str, dict[str, Any] | None]:
    if exc is None:
        return "ok", None
    if isinstance(exc, LlmspellError):
        return ("cancelled" if exc.code == "cancelled" else "failed"), json_safe(exc.to_dict())
    if isinstance(exc, (trio.Cancelled, KeyboardInterrupt)):
        return "cancelled", {"code": "cancelled", "message": f"the run was cancelled "
                             f"({type(exc).__name__})", "details": {}}
    return "failed", {"code": "internal", "message": f"{type(exc).__name__}: {exc}",
                      "details": {"type": type(exc).__name__}}


@attrs.define(eq=False)
class RunRecorder:
    """Records one run into a :class:`RunLog`; made by :meth:`RunLog.record`.

    While attached it taps the run's event bus (each event and its parent operation are
    appended to a list; every :data:`BATCH` of them go to a writer thread) and is the run's
    :attr:`~llmspell.runtime.SpellRun.reply_recorder` (each provider reply is stored with the
    digest of its request). On leaving the block it writes what is left and the run's status,
    error, result and totals, then prunes the log. ``error`` holds the first failure to write
    (the run itself is never failed by its recording).
    """

    log: RunLog
    name: str | None = None
    args: Any = None
    source: str | None = None
    engine: str | None = None
    session: str | None = None
    replay_of: str | None = None
    #: the recorded run (once one opened)
    run: SpellRun | None = attrs.field(default=None, init=False)
    #: its id, which ``llmspell runs show`` takes
    run_id: str | None = attrs.field(default=None, init=False)
    #: the first failure to write the log, if any
    error: LlmspellError | None = attrs.field(default=None, init=False)
    started_at: float = attrs.field(default=0.0, init=False)
    _events: list[tuple[Event, int | None]] = attrs.field(factory=list, init=False)
    _replies: list[tuple[int, str, str, bool, dict[str, Any]]] = attrs.field(
        factory=list, init=False
    )
    _reply_index: int = attrs.field(default=0, init=False)
    _jobs: queue.SimpleQueue[Callable[[sqlite3.Connection], Any] | None] | None = attrs.field(
        default=None, init=False
    )
    _thread: threading.Thread | None = attrs.field(default=None, init=False)
    _untap: Callable[[], None] | None = attrs.field(default=None, init=False)
    _token: contextvars.Token[Any] | None = attrs.field(default=None, init=False)
    _args_json: str = attrs.field(default="{}", init=False)
    _totals: list[Any] = attrs.field(factory=lambda: [0, 0, None, 0], init=False)

    async def __aenter__(self) -> RunRecorder:
        from llmspell.runtime import RUN_OBSERVERS

        self._token = RUN_OBSERVERS.set((*RUN_OBSERVERS.get(), self._attach))
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from llmspell.runtime import RUN_OBSERVERS

        if self._token is not None:
            RUN_OBSERVERS.reset(self._token)
            self._token = None
        with trio.CancelScope(shield=True):
            await self._finish(exc)

    # --- attaching (called by SpellRun.open) ------------------------------------------------

    def _attach(self, run: SpellRun) -> None:
        if self.run is not None:
            return  # a run opened inside the recorded one is not this recorder's
        self.run, self.run_id = run, run.run_id
        self.name = run.name if self.name is None else self.name
        self.args = run.args if self.args is None else self.args
        self.session = run.session if self.session is None else self.session
        self.started_at = time.time()
        self._untap = run.events.tap(self._tap)
        run.track_operations = True
        previous = run.reply_recorder
        if previous is None:
            run.reply_recorder = self._reply
        else:
            def both(*a: Any) -> None:
                previous(*a)
                self._reply(*a)

            run.reply_recorder = both
        self._args_json = to_json(self.args)

    def _tap(self, event: Event) -> None:
        self._events.append((event, OPERATION.get()))
        if len(self._events) >= BATCH:
            self._flush()

    def _reply(
        self, model: str, request: ChatRequest, outcome: ChatResponse | LlmspellError,
        chunks: tuple[str, ...] | None,
    ) -> None:
        index = self._reply_index
        self._reply_index += 1
        try:
            digest = request_digest(model, request)
            body = response_dict(outcome, chunks)
        except Exception as exc:  # never fail the run for its recording
            digest, body = "", {"error": {"code": "internal", "message": repr(exc),
                                          "details": {}}}
        self._replies.append((index, model, digest, chunks is not None, body))

    # --- writing (in the writer thread) ------------------------------------------------------

    def _run_row(self, status: str, finished: float | None = None,
                 error: dict[str, Any] | None = None, result: str | None = None) -> Callable[
                     [sqlite3.Connection], None]:
        totals, replies = self._totals, self._reply_index
        row = (self.run_id, self.name or "<unknown>", self.engine, self.session, self._args_json,
               self.source, self.started_at, finished, status,
               None if error is None else to_json(error), result, self.replay_of)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO runs (run_id, name, engine, session, args, source, "
                "started_at, finished_at, status, error, result, replay_of, input_tokens, "
                "output_tokens, cost, events, replies) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, totals[0], totals[1], totals[2], totals[3], replies))

        return write

    def _batch(self) -> Callable[[sqlite3.Connection], None]:
        """A job writing the events and replies gathered so far (and counting tokens)."""
        events, self._events = self._events, []
        replies, self._replies = self._replies, []
        run_id = self.run_id
        totals = self._totals

        def write(conn: sqlite3.Connection) -> None:
            rows = []
            for event, parent in events:
                data = event.data
                if event.topic == "llm.response" and isinstance(data, dict):
                    usage = data.get("usage") or {}
                    totals[0] += int(usage.get("input_tokens") or 0)
                    totals[1] += int(usage.get("output_tokens") or 0)
                    if usage.get("cost") is not None:
                        totals[2] = (totals[2] or 0.0) + float(usage["cost"])
                rows.append((run_id, event.seq, event.topic, event.timestamp, parent,
                             to_json(data)))
            totals[3] += len(rows)
            conn.executemany(
                "INSERT OR REPLACE INTO run_events (run_id, seq, topic, timestamp, parent, data) "
                "VALUES (?, ?, ?, ?, ?, ?)", rows)
            conn.executemany(
                "INSERT OR REPLACE INTO run_replies (run_id, idx, model, digest, stream, "
                "response) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, i, m, d, int(s), to_json(body)) for i, m, d, s, body in replies])

        return write

    def _flush(self) -> None:
        """Hand a full batch to the writer thread (started on the first one, with the run's
        row marked ``running``): a long run is in the log while it runs."""
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._write_jobs, daemon=True,
                                            name=f"runlog-{self.run_id}")
            self._thread.start()
            self._jobs.put(self._run_row("running"))
        self._jobs.put(self._batch())

    def _write_jobs(self) -> None:
        jobs = self._jobs
        assert jobs is not None
        while True:
            job = jobs.get()
            if job is None:
                return
            if self.error is None:  # once the log cannot be written, drop the rest
                self._write(job)

    def _write(self, job: Callable[[sqlite3.Connection], Any]) -> None:
        """Run ``job`` in a transaction (blocking); a failure goes to ``error``, not up."""
        try:
            self.log._db.call("record a run", job)
        except LlmspellError as err:
            self.error = err
            _warn("run %s is not recorded: %s", self.run_id, err.message)
        except Exception as exc:  # pragma: no cover - a bug in the writer, not the run's
            self.error = LlmspellError("state_error", f"recording run {self.run_id} failed: "
                                       f"{type(exc).__name__}: {exc}")
            _warn("run %s is not recorded: %s", self.run_id, exc)

    async def _finish(self, exc: BaseException | None) -> None:
        status, error = _status(exc)
        runlog = self.log
        if self.run is None:
            if exc is None or isinstance(exc, (trio.Cancelled, KeyboardInterrupt)):
                return  # nothing ran
            # the block failed before a run opened (a bad workflow file ...): a failed run
            self.run_id = os.urandom(6).hex()
            self.started_at = time.time()
            self._args_json = to_json(self.args if self.args is not None else {})
            jobs = [self._run_row(status, self.started_at, error)]
        else:
            if self._untap is not None:
                self._untap()
                self._untap = None
            result = to_json(self.run.result) if exc is None else None
            jobs = [self._batch(), self._run_row(status, time.time(), error, result)]
        keep, max_age = runlog.keep, runlog.max_age_days

        def finish(conn: sqlite3.Connection) -> None:
            for job in jobs:
                job(conn)
            _prune(conn, keep, max_age, None)

        if self._jobs is None:  # a short run: everything in one transaction
            await trio.to_thread.run_sync(self._write, finish)
            return
        assert self._thread is not None
        self._jobs.put(finish)
        self._jobs.put(None)
        await trio.to_thread.run_sync(self._thread.join)
