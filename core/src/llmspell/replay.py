"""Replaying a recorded run: the same spell source, engine, arguments and session, with every
model call answered from the run's recorded replies, so no provider is contacted.

The substitution happens at the provider call inside the ``llm_call`` hooks
(:attr:`llmspell.runtime.SpellRun.replay`): the hooks run as they did, and only the raw provider
reply (or failure) comes from the log. Streamed calls get the recorded text pieces as chunks
(a reply recorded from a whole call is split after each space), the tool calls, usage and finish
reason on the last one.

Matching: each model call takes the first unused reply of the same model string whose request
digest (:func:`llmspell.runlog.request_digest`) equals its own; failing that, the next unused
reply of that model, and ``replay.diverged`` is emitted (``{model, call, reply, expected,
got}``: the call's number, the reply's index and both digests' first 16 digits). When no reply of
the model is left, the call fails with ``replay_exhausted`` naming it.

Tools run for real during a replay (their results are not recorded), state is an in-memory store
(a replay neither reads nor changes the project's state) and the replay is recorded as a new run
whose ``replay_of`` names the original.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.providers import Capabilities, ChatRequest, ChatResponse, StreamChunk
from llmspell.runlog import ReplyRecord, RunInfo, RunLog, request_digest

if TYPE_CHECKING:
    from llmspell.kernel import Kernel
    from llmspell.runtime import Approver, SpellRun
    from llmspell.security import SecurityPolicy

__all__ = ["Replay", "ReplayOutcome", "replay_run"]

#: The first digits of request digests shown in ``replay.diverged`` events.
SHOWN_DIGEST = 16
_CAPABILITIES = Capabilities(tools=True, json_schema=True, streaming=True)


class Replay:
    """The recorded replies of run ``run_id``, answering the model calls of a replay of it.

    Attach it to a run with :meth:`attach` (or through
    :data:`llmspell.runtime.RUN_OBSERVERS`: :meth:`attach` takes the first run only).
    ``calls`` counts the model calls answered or refused, ``diverged`` those answered by a reply
    recorded for another request.
    """

    def __init__(self, run_id: str, replies: list[ReplyRecord]) -> None:
        self.run_id = run_id
        self.replies = list(replies)
        self.calls = 0
        self.diverged = 0
        self._used = [False] * len(self.replies)
        self._first_unused = 0
        self._attached = False

    @property
    def unused(self) -> int:
        """How many recorded replies no call took."""
        return self._used.count(False)

    def attach(self, run: SpellRun) -> None:
        """Answer ``run``'s model calls from the recorded replies (the first run only)."""
        if self._attached:
            return
        self._attached = True
        run.replay = self

    def provider(self, run: SpellRun, model: str) -> ReplayProvider:
        """The stand-in of the provider of model string ``model`` in ``run``."""
        return ReplayProvider(self, run, model)

    async def take(self, run: SpellRun, model: str, request: ChatRequest) -> ReplyRecord:
        """The recorded reply for this call (see the module docstring)."""
        self.calls += 1
        call = self.calls
        digest = request_digest(model, request)
        fallback: int | None = None
        while self._first_unused < len(self._used) and self._used[self._first_unused]:
            self._first_unused += 1
        for i in range(self._first_unused, len(self.replies)):
            reply = self.replies[i]
            if self._used[i] or reply.model != model:
                continue
            if reply.digest == digest:
                self._used[i] = True
                return reply
            if fallback is None:
                fallback = i
        if fallback is None:
            used = len(self.replies) - self.unused
            raise LlmspellError(
                "replay_exhausted",
                f"replay of run {self.run_id}: model call {call} to {model!r} has no recorded "
                f"reply left ({used} of {len(self.replies)} recorded replies used)",
                {"run_id": self.run_id, "model": model, "call": call,
                 "recorded": len(self.replies), "used": used},
                hint="the spell made more model calls than the recorded run: its tools or "
                "inputs answered differently this time",
            )
        self._used[fallback] = True
        self.diverged += 1
        reply = self.replies[fallback]
        await run.emit("replay.diverged", {
            "model": model, "call": call, "reply": reply.index,
            "expected": reply.digest[:SHOWN_DIGEST], "got": digest[:SHOWN_DIGEST],
        })
        return reply


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [*(w + " " for w in words[:-1]), words[-1]]


@attrs.define(eq=False)
class ReplayProvider:
    """A provider answering from a :class:`Replay` (never contacts anything)."""

    replay: Replay
    run: SpellRun
    model: str
    name: str = "replay"
    capabilities: Capabilities = _CAPABILITIES

    async def chat(self, request: ChatRequest) -> ChatResponse:
        reply = await self.replay.take(self.run, self.model, request)
        error = reply.error
        if error is not None:
            raise error
        return reply.to_response()

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        reply = await self.replay.take(self.run, self.model, request)
        error = reply.error
        response = None if error is not None else reply.to_response()
        recorded = reply.response.get("chunks")
        if isinstance(recorded, list):
            pieces = [str(p) for p in recorded]
        else:
            pieces = _pieces(response.text) if response is not None else []
        if response is None:
            for piece in pieces:
                yield StreamChunk(text=piece)
            assert error is not None
            raise error
        if not pieces:
            pieces = [""]
        for piece in pieces[:-1]:
            yield StreamChunk(text=piece)
        yield StreamChunk(text=pieces[-1], tool_calls=response.tool_calls, usage=response.usage,
                          finish_reason=response.finish_reason)


@attrs.frozen
class ReplayOutcome:
    """What :func:`replay_run` did: the new run's id (``None`` when not recorded), the run it
    replayed, the result, and the counts of the :class:`Replay`."""

    run_id: str | None
    replay_of: str
    result: Any
    calls: int
    diverged: int
    unused: int
    #: whether the result equals the recorded run's (as JSON data)
    same_result: bool

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


async def replay_run(
    kernel: Kernel, runlog: RunLog, run_id: str, *, policy: SecurityPolicy | None = None,
    approver: Approver | None = None, record: bool = True,
) -> ReplayOutcome:
    """Replay the run ``run_id`` of ``runlog`` (an id or a unique prefix) on ``kernel``, and
    (with ``record``) record the replay in ``runlog`` with ``replay_of`` set. Fails like the
    recorded run would, plus ``replay_exhausted``; ``invalid_value`` for a run whose source
    was not recorded, ``not_found`` for an engine that is not installed."""
    from llmspell.runlog import json_safe, to_json
    from llmspell.runtime import RUN_OBSERVERS

    info = await runlog.get_run(run_id)
    if info.source is None or info.engine is None:
        raise LlmspellError(
            "invalid_value",
            f"run {info.run_id} cannot be replayed: its spell source was not recorded",
            {"run_id": info.run_id},
        )
    replay = Replay(info.run_id, await runlog.replies(info.run_id))
    token = RUN_OBSERVERS.set((*RUN_OBSERVERS.get(), replay.attach))
    try:
        if record:
            async with runlog.record(source=info.source, engine=info.engine, name=info.name,
                                     args=info.args, session=info.session,
                                     replay_of=info.run_id) as recorder:
                result = await _run(kernel, info, policy, approver)
            new_id = recorder.run_id
        else:
            result = await _run(kernel, info, policy, approver)
            new_id = None
    finally:
        RUN_OBSERVERS.reset(token)
    same = to_json(json_safe(result)) == to_json(json_safe(info.result))
    return ReplayOutcome(new_id, info.run_id, result, replay.calls, replay.diverged,
                         replay.unused, same)


async def _run(
    kernel: Kernel, info: RunInfo, policy: SecurityPolicy | None, approver: Approver | None
) -> Any:
    """Run the recorded source of ``info`` as ``llmspell run`` did (state in memory)."""
    from llmspell.runtime import SpellRun

    args = info.args if info.args is not None else {}
    source = info.source or ""
    if info.engine == "workflow":
        from llmspell.workflow_files import (
            load_workflow,
            output_value,
            parse_workflow_text,
            workflow_input,
        )

        path = Path(info.name)
        flow = load_workflow(kernel, path, parse_workflow_text(path, source))
        async with SpellRun.open(kernel, name=info.name, args=args, policy=policy,
                                 approver=approver, session=info.session) as run:
            run.result = output_value(await run.run_agent(flow, workflow_input(run.args)))
        return run.result
    engine = kernel.engines.get(str(info.engine))
    async with SpellRun.open(kernel, name=info.name, args=args, policy=policy,
                             approver=approver, session=info.session) as run:
        run.result = await engine.run(source, info.name, run)
    return run.result
