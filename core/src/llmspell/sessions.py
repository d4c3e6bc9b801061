"""Sessions: what ``llmspell run --session NAME`` continues.

A session has no table of its own. It is what the project's three stores hold under its name:

* its **runs**: the run log (``.llmspell/runs.db``, :mod:`llmspell.runlog`) records the session
  of every run;
* its **state**: scope ``session:<name>`` of the state store (``.llmspell/state.db``) -- what a
  spell reads and writes with the bare scope ``session`` -- where agents with ``history`` also
  keep their **conversation history**, one key ``history.<agent name>`` each;
* its **artifacts**: those saved by its runs (``.llmspell/artifacts.db``).

A session exists as soon as one of these holds something of it. :class:`Sessions` lists,
shows, exports and deletes sessions across the three; it never creates a store file that does
not exist yet. A name is 1-128 characters of ``A-Z a-z 0-9 _ . -`` (else ``invalid_value``);
a session with nothing anywhere is ``not_found``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs

from llmspell.artifacts import ArtifactStore, default_artifacts_path
from llmspell.errors import LlmspellError, did_you_mean
from llmspell.runlog import RunLog, default_runs_path
from llmspell.state import SqliteBackend, default_state_path
from llmspell.state.scopes import SCOPE_NAME_RE

#: prefix of the state keys where agents keep a session's conversation history
HISTORY_PREFIX = "history."
SCOPE_PREFIX = "session:"


def check_session_name(name: Any) -> str:
    """``name`` if it is a valid session name, else ``invalid_value`` naming it."""
    if not isinstance(name, str) or SCOPE_NAME_RE.fullmatch(name) is None:
        raise LlmspellError(
            "invalid_value",
            f"invalid session name {name!r}: use 1-128 characters of A-Z a-z 0-9 _ . -",
            {"session": name if isinstance(name, str) else repr(name)},
        )
    return name


@attrs.frozen
class SessionSummary:
    """One line of ``llmspell session list``: counts across the three stores."""

    name: str
    runs: int = 0
    last_run: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    state_keys: int = 0
    histories: int = 0
    artifacts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class Sessions:
    """The sessions of one project. Open with ``async with Sessions.open(project)``."""

    project: Path
    state: SqliteBackend | None
    runs: RunLog | None
    artifacts: ArtifactStore | None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, project: Path) -> AsyncIterator[Sessions]:
        """The stores of ``project`` that exist (a missing one holds no session)."""
        state_path = default_state_path(project)
        runs_path = default_runs_path(project)
        artifacts_path = default_artifacts_path(project)
        sessions = cls(
            project,
            SqliteBackend(state_path) if state_path.exists() else None,
            RunLog(runs_path) if runs_path.exists() else None,
            ArtifactStore(artifacts_path) if artifacts_path.exists() else None,
        )
        try:
            yield sessions
        finally:
            for store in (sessions.state, sessions.runs, sessions.artifacts):
                if store is not None:
                    await store.aclose()

    # --- reading ---------------------------------------------------------------------------

    async def list(self) -> list[SessionSummary]:
        """Every session of the project, by name."""
        found: dict[str, dict[str, Any]] = {}
        if self.runs is not None:
            for name, row in (await self.runs.sessions()).items():
                found.setdefault(name, {}).update(
                    runs=row["runs"], last_run=row["last_run"],
                    input_tokens=row["input_tokens"], output_tokens=row["output_tokens"],
                    cost=row["cost"],
                )
        if self.state is not None:
            for scope in await self.state.scopes():
                if scope.startswith(SCOPE_PREFIX):
                    keys = await self.state.keys(scope)
                    histories = sum(1 for k in keys if k.startswith(HISTORY_PREFIX))
                    found.setdefault(scope[len(SCOPE_PREFIX):], {}).update(
                        state_keys=len(keys) - histories, histories=histories
                    )
        if self.artifacts is not None:
            for info in await self.artifacts.list(all_versions=True):
                if info.session is not None:
                    entry = found.setdefault(info.session, {})
                    entry["artifacts"] = entry.get("artifacts", 0) + 1
        return [SessionSummary(name, **found[name]) for name in sorted(found)]

    async def show(self, name: str) -> dict[str, Any]:
        """Session ``name``: ``{name, runs (newest first), state, history (agent ->
        messages), artifacts (every version)}``; ``not_found`` when it has nothing."""
        name = check_session_name(name)
        runs = await self.runs.list_runs(None, session=name) if self.runs is not None else []
        state: dict[str, Any] = {}
        history: dict[str, Any] = {}
        if self.state is not None:
            scope = SCOPE_PREFIX + name
            for key in await self.state.keys(scope):
                value = await self.state.get(scope, key)
                if key.startswith(HISTORY_PREFIX):
                    history[key[len(HISTORY_PREFIX):]] = value
                else:
                    state[key] = value
        artifacts = (
            await self.artifacts.list(session=name, all_versions=True)
            if self.artifacts is not None else []
        )
        if not (runs or state or history or artifacts):
            raise await self._missing(name)
        return {
            "name": name,
            "runs": [info.to_dict() for info in runs],
            "state": state,
            "history": history,
            "artifacts": [info.to_dict() for info in artifacts],
        }

    async def export(self, name: str) -> dict[str, Any]:
        """:meth:`show` with each run's source and events, and the text content of text
        artifacts: a JSON document that stands on its own."""
        out = await self.show(name)
        if self.runs is not None:  # (runs are listed only when there is a run log)
            for run in out["runs"]:
                info = await self.runs.get_run(run["run_id"])
                run["source"] = info.source
                run["events"] = [e.to_dict() for e in await self.runs.events(run["run_id"])]
        if self.artifacts is not None:
            for item in out["artifacts"]:
                artifact = await self.artifacts.load(item["name"], item["version"])
                item["content"], item["encoding"] = _exported_content(artifact)
        return {"llmspell_session_export": 1, **out}

    # --- deleting --------------------------------------------------------------------------

    async def delete(self, name: str) -> dict[str, int]:
        """Delete session ``name`` everywhere: its runs (with their events and replies), its
        state scope (history included) and the artifacts its runs saved. Returns what was
        deleted: ``{runs, state_keys, artifacts}``; ``not_found`` when it has nothing."""
        shown = await self.show(name)  # checks the name; not_found when there is nothing
        deleted = {"runs": 0, "state_keys": 0, "artifacts": 0}
        if self.runs is not None and shown["runs"]:
            deleted["runs"] = len(await self.runs.delete_runs(r["run_id"] for r in shown["runs"]))
        if self.state is not None:
            deleted["state_keys"] = await self.state.clear(SCOPE_PREFIX + name)
        if self.artifacts is not None:
            for item in shown["artifacts"]:
                deleted["artifacts"] += await self.artifacts.delete(item["name"], item["version"])
        return deleted

    async def _missing(self, name: str) -> LlmspellError:
        known = [s.name for s in await self.list()]
        return LlmspellError(
            "not_found",
            f"no session {name!r} in {self.project}" + did_you_mean(name, known),
            {"session": name},
            hint="llmspell session list shows the project's sessions",
        )


def _exported_content(artifact: Any) -> tuple[str, str]:
    """An artifact's content for a JSON export: text as is, bytes as base64."""
    import base64

    if artifact.encoding == "text":
        return str(artifact.content), "text"
    return base64.b64encode(artifact.data).decode("ascii"), "base64"
