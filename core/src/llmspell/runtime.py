"""A spell run: the nursery, policy, state, events and hooks that one spell (or one Python
caller) works with. Every host operation goes through a :class:`SpellRun`.

Structured concurrency is the rule: tasks started with :meth:`SpellRun.spawn` live in the run's
nursery, so leaving :meth:`SpellRun.open` waits for them, and :meth:`SpellRun.cancel` (or a
wall-time limit) cancels everything in flight.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from llmspell.artifacts import Artifact, ArtifactInfo, ArtifactStore
from llmspell.errors import LlmspellError
from llmspell.events import Event, EventBus
from llmspell.kernel import Kernel
from llmspell.lifecycle import Cancel, HookContext, HookDispatcher, HookPoint
from llmspell.messages import Message, Result, ToolCall, Usage
from llmspell.operations import OPERATION
from llmspell.providers import ChatRequest, ChatResponse, ModelSpec, StreamChunk, model_chain
from llmspell.security import SecurityPolicy
from llmspell.state import MemoryBackend, StateBackend, scope_text
from llmspell.state.scopes import SCOPE_NAME_RE
from llmspell.tools import Tool, ToolContext

#: ``approver(tool, args) -> bool``: asked before a tool that needs approval runs.
Approver = Callable[[Tool, dict[str, Any]], Awaitable[bool]]

DEFAULT_SCOPE = "global"

#: Called with every :class:`SpellRun` opened in this context, right after it is made (before
#: the ``spell_start`` hooks and ``spell.started``): how a run recorder
#: (:meth:`llmspell.runlog.RunLog.record`) or a replay attaches to a run it does not open.
RUN_OBSERVERS: contextvars.ContextVar[tuple[Callable[[SpellRun], None], ...]] = (
    contextvars.ContextVar("llmspell_run_observers", default=())
)
#: ``recorder(model, request, outcome, chunks)``: told every provider reply (a
#: :class:`ChatResponse`) or failure (an :class:`LlmspellError`) of a run, with the request as the
#: hooks passed it on, and for streams the text pieces delivered (see :mod:`llmspell.runlog`).
ReplyRecorder = Callable[
    [str, ChatRequest, ChatResponse | LlmspellError, tuple[str, ...] | None], None
]

#: Failures after which a fallback chain moves on to its next model.
FALLBACK_CODES = frozenset({"provider_error", "not_found", "config_error"})


@functools.cache
def _default_policy() -> SecurityPolicy:
    """The policy of a run that names none (immutable, so one serves every run)."""
    return SecurityPolicy()


@attrs.define(eq=False)
class SpellRun:
    """One run. Create it with :meth:`open`; use its methods for every host operation."""

    kernel: Kernel
    policy: SecurityPolicy
    hooks: HookDispatcher
    events: EventBus
    store: StateBackend
    name: str = "<python>"
    args: Any = attrs.field(factory=dict)
    #: 12 random hex digits (what ``uuid.uuid4().hex[:12]`` gives, without the UUID object)
    run_id: str = attrs.field(factory=lambda: os.urandom(6).hex())
    approver: Approver | None = None
    #: the session this run continues (``llmspell run --session NAME``), or None
    session: str | None = None
    result: Any = None
    spell_state: MemoryBackend = attrs.field(factory=MemoryBackend)
    #: tools and agents defined by this run's spell (not in the kernel's registries)
    local_tools: dict[str, Tool] = attrs.field(factory=dict)
    #: when a list, every host operation a script asks for is appended as ``(name, args)``
    #: (the conformance suite compares these traces across engines)
    trace: list[tuple[str, list[Any]]] | None = None
    agents: dict[str, Any] = attrs.field(factory=dict)
    #: whether :data:`llmspell.operations.OPERATION` is kept up to date in this run (a run
    #: recorder switches it on; off, operations cost nothing measurable for it)
    track_operations: bool = False
    #: told every raw provider reply (inside the ``llm_call`` hooks); see :data:`ReplyRecorder`
    reply_recorder: ReplyRecorder | None = None
    #: when set, answers every model call instead of the provider: ``replay.provider(run,
    #: model)`` is a provider for that model string (see :mod:`llmspell.replay`)
    replay: Any = None
    #: where ``artifact_*`` keep artifacts (a private in-memory store unless ``open`` got one)
    artifacts: ArtifactStore = attrs.field(factory=ArtifactStore)
    _nursery: trio.Nursery | None = attrs.field(default=None, alias="_nursery")
    _calls: int = attrs.field(default=0, alias="_calls")

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        kernel: Kernel,
        *,
        name: str = "<python>",
        args: Any = None,
        policy: SecurityPolicy | None = None,
        store: StateBackend | None = None,
        approver: Approver | None = None,
        session: str | None = None,
        artifacts: ArtifactStore | None = None,
    ) -> AsyncIterator[SpellRun]:
        """Open a run: ``spell_start`` hooks (which may change ``args`` or cancel), a nursery,
        the wall-time limit of ``policy.limits``; on exit, wait for spawned tasks, then
        ``spell_end`` hooks. ``store`` defaults to an in-memory backend, ``artifacts`` to an
        in-memory :class:`~llmspell.artifacts.ArtifactStore`."""
        policy = policy or _default_policy()
        if session is not None and (
            not isinstance(session, str) or SCOPE_NAME_RE.fullmatch(session) is None
        ):
            raise LlmspellError(
                "invalid_value",
                f"session name must be 1-128 characters of A-Z a-z 0-9 _ . -, got {session!r}",
                {"session": session if isinstance(session, str) else repr(session)},
            )
        hooks = kernel.hooks.child()
        hooks.max_retries = policy.max_hook_retries
        run = cls(
            kernel=kernel,
            policy=policy,
            hooks=hooks,
            events=EventBus(),
            store=store if store is not None else MemoryBackend(),
            name=name,
            args=args if args is not None else {},
            approver=approver,
            session=session,
            artifacts=artifacts if artifacts is not None else ArtifactStore(),
        )
        hooks.run = run
        for observe in RUN_OBSERVERS.get():
            observe(run)
        ctx = HookContext(HookPoint.SPELL_START, "spell", name, run.args, run_id=run.run_id)
        action = await hooks.call(HookPoint.SPELL_START, ctx)
        if isinstance(action, Cancel):
            raise LlmspellError(
                "hook_cancelled",
                f"spell {name!r} cancelled by a hook: {action.reason}",
                {"reason": action.reason},
            )
        run.args = ctx.input
        await run.emit("spell.started", {"spell": name, "run_id": run.run_id})
        wall = policy.limits.wall_seconds
        try:
            with trio.CancelScope(deadline=trio.current_time() + wall if wall else float("inf")) \
                    as scope:
                try:
                    async with trio.open_nursery() as nursery:
                        run._nursery = nursery
                        yield run
                except BaseExceptionGroup as group:
                    raise single_error(group) from None
            if scope.cancelled_caught:
                raise LlmspellError(
                    "limit",
                    f"spell {name!r} exceeded its wall-time limit of {wall} s",
                    {"limit": "wall_seconds", "value": wall},
                )
        except LlmspellError as err:
            run._nursery = None
            ctx.error = err
            await hooks.call(HookPoint.SPELL_END, ctx)
            await run.emit("spell.failed", {"spell": name, "error": err.to_dict()})
            run.events.close()
            raise
        except BaseException:
            run._nursery = None
            run.events.close()
            raise
        run._nursery = None
        ctx.output = run.result
        await hooks.call(HookPoint.SPELL_END, ctx)
        run.result = ctx.output
        await run.emit("spell.finished", {"spell": name, "run_id": run.run_id})
        run.events.close()

    def default_model(self) -> tuple[str, ...]:
        """The model chain of agents that name none (see
        :meth:`llmspell.providers.ProviderRegistry.default_model`)."""
        return self.kernel.providers.default_model(self.kernel.config.default_model)

    # --- tasks ---------------------------------------------------------------------------------

    @property
    def nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise LlmspellError("cancelled", f"run {self.run_id} is not open")
        return self._nursery

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None) -> None:
        """Start ``fn(*args)`` in the run's nursery; its failure fails the run."""
        self.nursery.start_soon(fn, *args, name=name)

    def cancel(self) -> None:
        """Cancel everything in flight in this run."""
        self.nursery.cancel_scope.cancel()

    # --- events --------------------------------------------------------------------------------

    async def emit(self, topic: str, data: Any = None) -> Event:
        """Publish an event through the ``event_emit`` hooks (which may modify its data, skip it
        or cancel it)."""

        if not self.hooks.has_hooks("event_emit", on_error=False):
            # no hook can change the event: publish it directly; only a failure (an invalid
            # topic, which publishes nothing) takes the hooked path, for on_error hooks to see
            try:
                return await self.events.publish(topic, data, source=self.run_id)
            except LlmspellError:
                if not self.hooks.has_hooks("event_emit"):
                    raise

        async def publish(value: Any) -> Event:
            return await self.events.publish(topic, value, source=self.run_id)

        ctx = HookContext(
            HookPoint.BEFORE_EVENT_EMIT, "event_emit", topic, data, run_id=self.run_id
        )
        out: Event = await self.hooks.guard("event_emit", topic, data, publish, ctx=ctx)
        return out

    # --- state ---------------------------------------------------------------------------------

    def _backend(self, scope: str) -> tuple[StateBackend, str]:
        if scope == "session":
            scope = self._session_scope()
        text = scope_text(scope)
        return (self.spell_state if text == "spell" else self.store), text

    def _session_scope(self) -> str:
        """``session:<id>`` of this run's session: what the bare scope ``session`` means."""
        if self.session is None:
            raise LlmspellError(
                "invalid_value",
                f"state scope 'session' needs a session, and run {self.run_id} has none",
                {"scope": "session"},
                hint="run the spell with --session NAME, or name one: 'session:<id>'",
            )
        return f"session:{self.session}"

    async def state_get(self, key: str, scope: str = DEFAULT_SCOPE, default: Any = None) -> Any:
        backend, scope = self._backend(scope)
        return await backend.get(scope, key, default)

    async def state_keys(self, scope: str = DEFAULT_SCOPE) -> list[str]:
        backend, scope = self._backend(scope)
        return await backend.keys(scope)

    async def state_set(self, key: str, value: Any, scope: str = DEFAULT_SCOPE) -> None:
        """Write through the ``state_write`` hooks, then emit ``state.changed``."""
        backend, scope = self._backend(scope)

        async def write(v: Any) -> Any:
            await backend.set(scope, key, v)
            return v

        await self._state_write("set", scope, key, value, write)

    async def state_delete(self, key: str, scope: str = DEFAULT_SCOPE) -> bool:
        backend, scope = self._backend(scope)

        async def delete(_: Any) -> bool:
            return await backend.delete(scope, key)

        return bool(await self._state_write("delete", scope, key, None, delete))

    async def state_update(
        self, key: str, fn: Callable[[Any], Any], scope: str = DEFAULT_SCOPE, default: Any = None
    ) -> Any:
        """Atomic read-modify-write (no lost updates across tasks and processes)."""
        backend, scope = self._backend(scope)

        async def update(_: Any) -> Any:
            return await backend.update(scope, key, fn, default)

        return await self._state_write("update", scope, key, None, update)

    async def _state_write(
        self, op: str, scope: str, key: str, value: Any, write: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        name = f"{scope}/{key}"
        ctx = HookContext(
            HookPoint.BEFORE_STATE_WRITE, "state_write", name, value, run_id=self.run_id,
            metadata={"op": op, "scope": scope, "key": key},
        )
        out = await self.hooks.guard("state_write", name, value, write, ctx=ctx)
        if not ctx.skipped:  # a hook that skipped the write changed nothing
            await self.emit("state.changed", {"scope": scope, "key": key, "op": op})
        return out

    # --- artifacts -----------------------------------------------------------------------------

    async def artifact_save(
        self, name: str, content: str | bytes, *, media_type: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ArtifactInfo:
        """Save the next version of artifact ``name`` (see :meth:`ArtifactStore.save`), marked
        with this run's id and session; then emit ``artifact.saved`` with ``{name, version,
        media_type, size}``."""
        info = await self.artifacts.save(
            name, content, media_type=media_type, metadata=metadata, run_id=self.run_id,
            session=self.session,
        )
        await self.emit("artifact.saved", {"name": info.name, "version": info.version,
                                           "media_type": info.media_type, "size": info.size})
        return info

    async def artifact_load(self, name: str, version: int | None = None) -> Artifact:
        """Version ``version`` of artifact ``name`` (default: the latest)."""
        return await self.artifacts.load(name, version)

    async def artifact_list(
        self, prefix: str | None = None, *, run_id: str | None = None,
        all_versions: bool = False,
    ) -> list[ArtifactInfo]:
        """The latest version of each artifact (see :meth:`ArtifactStore.list`)."""
        return await self.artifacts.list(prefix, run_id=run_id, all_versions=all_versions)

    # --- tools ---------------------------------------------------------------------------------

    async def call_tool(
        self, tool: Tool | str, args: Any, *, call_id: str | None = None
    ) -> Any:
        """Call a tool through the ``tool_call`` hooks: arguments validated against its schema,
        its permissions checked against the policy, approval asked when needed; a failure that
        is not an ``LlmspellError`` becomes ``tool_error`` naming the tool."""
        if isinstance(tool, str):
            tool = self.kernel.tools.get(tool)
        self._calls += 1
        call_id = call_id or f"{self.run_id}-{self._calls}"
        the_tool = tool
        ctx_tool = ToolContext(self, the_tool, call_id)

        async def invoke(arguments: Any) -> Any:
            arguments = the_tool.validate(arguments)
            self.policy.check_tool(the_tool)
            if self.policy.needs_approval(the_tool):
                await self._approve(the_tool, arguments)
            try:
                return await the_tool.run(arguments, ctx_tool)
            except LlmspellError:
                raise
            except Exception as exc:
                raise LlmspellError(
                    "tool_error",
                    f"tool {the_tool.name!r} failed: {type(exc).__name__}: {exc}",
                    {"tool": the_tool.name, "type": type(exc).__name__},
                ) from exc

        opened = await self.emit("tool.started", {"tool": tool.name, "call_id": call_id})
        token = (
            OPERATION.set(opened.seq)
            if self.track_operations and type(opened) is Event else None
        )
        try:
            try:
                out = await self.hooks.guard(
                    "tool_call", tool.name, args, invoke, run_id=self.run_id
                )
            except LlmspellError as err:
                await self.emit(
                    "tool.failed", {"tool": tool.name, "call_id": call_id, "error": err.to_dict()}
                )
                raise
            await self.emit("tool.finished", {"tool": tool.name, "call_id": call_id})
        finally:
            if token is not None:
                OPERATION.reset(token)
        return out

    async def _approve(self, tool: Tool, args: dict[str, Any]) -> None:
        """Ask the ``llmspell_approve_tool`` hooks, then the run's approver; refuse
        (``permission_denied``) unless one of them approves."""
        verdict = await self._approval_hooks(tool, args)
        if verdict is None and self.approver is not None:
            verdict = bool(await self.approver(tool, args))
        if verdict:
            return
        how = (
            "was refused approval"
            if verdict is not None
            else "needs approval, and no one can give it"
        )
        raise LlmspellError(
            "permission_denied",
            f"tool {tool.name!r} {how}",
            {"tool": tool.name, "reason": "approval"},
            hint="approve it when asked, or run with --yes",
        )

    async def _approval_hooks(self, tool: Tool, args: dict[str, Any]) -> bool | None:
        caller = getattr(self.kernel.pm.hook, "llmspell_approve_tool", None)
        if caller is None:
            return None
        for impl in reversed(caller.get_hookimpls()):  # pluggy's call order
            kwargs = {"tool": tool, "args": args, "run": self}
            try:
                answer = impl.function(**{k: kwargs[k] for k in impl.argnames})
                if inspect.isawaitable(answer):
                    answer = await answer
            except LlmspellError:
                raise
            except Exception as exc:
                raise LlmspellError(
                    "plugin_error",
                    f"hook {impl.plugin_name}.llmspell_approve_tool failed: "
                    f"{type(exc).__name__}: {exc}",
                    {"hook": f"{impl.plugin_name}.llmspell_approve_tool", "tool": tool.name},
                ) from exc
            if answer is not None:
                return bool(answer)
        return None

    # --- models --------------------------------------------------------------------------------

    async def llm_call(self, model: ModelSpec, request: ChatRequest) -> ChatResponse:
        """One provider call through the ``llm_call`` hooks. ``model`` is ``provider/model`` or
        a fallback chain: on a provider failure (after that provider's own retries), a missing
        provider or an unusable one, the next model is tried and ``llm.fallback`` emitted; the
        last failure is raised with every attempt in its ``details["attempts"]``."""

        async def one(name: str) -> ChatResponse:
            provider, model_name = self.kernel.providers.resolve(name)
            if self.replay is not None:
                # a replay: its stand-in answers; the real provider is still looked up, so
                # a missing one fails as it did
                provider = self.replay.provider(self, name)

            async def call(req: ChatRequest) -> ChatResponse:
                try:
                    response = await provider.chat(attrs.evolve(req, model=model_name))
                except LlmspellError as err:
                    if self.reply_recorder is not None:
                        self.reply_recorder(name, req, err, None)
                    raise
                except Exception as exc:
                    failure = _provider_failure(name, exc)
                    if self.reply_recorder is not None:
                        self.reply_recorder(name, req, failure, None)
                    raise failure from exc
                if self.reply_recorder is not None:
                    self.reply_recorder(name, req, response, None)
                return response

            return await self._llm_guard(name, request, call)

        return await self._with_fallback(model, one, lambda: False)

    async def llm_stream(
        self,
        model: ModelSpec,
        request: ChatRequest,
        on_chunk: Callable[[StreamChunk], Awaitable[None] | None],
    ) -> ChatResponse:
        """Like :meth:`llm_call`, streaming: ``on_chunk`` sees every chunk as it arrives; the
        assembled response goes through the after hooks. A fallback happens only while no
        chunk has reached ``on_chunk``."""
        delivered = False

        async def one(name: str) -> ChatResponse:
            nonlocal delivered
            provider, model_name = self.kernel.providers.resolve(name)
            if self.replay is not None:  # a replay: its stand-in answers (see llm_call)
                provider = self.replay.provider(self, name)

            async def call(req: ChatRequest) -> ChatResponse:
                nonlocal delivered
                text: list[str] = []
                calls: list[ToolCall] = []
                usage, finish = Usage(), "stop"
                chunks = provider.stream(attrs.evolve(req, model=model_name)).__aiter__()
                try:
                    while True:
                        try:
                            chunk = await chunks.__anext__()
                        except StopAsyncIteration:
                            break
                        except LlmspellError as err:
                            if self.reply_recorder is not None:
                                self.reply_recorder(name, req, err, tuple(text))
                            raise
                        except Exception as exc:
                            failure = _provider_failure(name, exc)
                            if self.reply_recorder is not None:
                                self.reply_recorder(name, req, failure, tuple(text))
                            raise failure from exc
                        text.append(chunk.text)
                        calls.extend(chunk.tool_calls)
                        usage = chunk.usage or usage
                        finish = chunk.finish_reason or finish
                        delivered = True
                        out = on_chunk(chunk)  # the caller's errors are its own
                        if out is not None:
                            await out
                finally:
                    close = getattr(chunks, "aclose", None)
                    if close is not None:
                        with trio.CancelScope(shield=True):
                            await close()
                message = Message("assistant", "".join(text), tool_calls=tuple(calls))
                response = ChatResponse(message, usage, finish, model_name)
                if self.reply_recorder is not None:
                    self.reply_recorder(name, req, response, tuple(text))
                return response

            return await self._llm_guard(name, request, call, stream=True)

        return await self._with_fallback(model, one, lambda: delivered)

    async def _with_fallback(
        self,
        model: ModelSpec,
        one: Callable[[str], Awaitable[ChatResponse]],
        committed: Callable[[], bool],
    ) -> ChatResponse:
        chain = model_chain(model)
        attempts: list[dict[str, Any]] = []
        for index, name in enumerate(chain):
            try:
                return await one(name)
            except LlmspellError as err:
                attempts.append({"model": name, "code": err.code, "message": err.message})
                last = index == len(chain) - 1
                if last or committed() or err.code not in FALLBACK_CODES:
                    if len(chain) > 1:
                        err.details.setdefault("attempts", attempts)
                    raise
                await self.emit(
                    "llm.fallback",
                    {"model": name, "next": chain[index + 1], "error": err.to_dict()},
                )
        raise AssertionError("unreachable: the last model re-raises")

    async def _llm_guard(
        self,
        model: str, request: ChatRequest, call: Callable[[ChatRequest], Awaitable[Any]],
        *, stream: bool = False,
    ) -> ChatResponse:
        """One model call in its hooks; ``ctx.metadata["stream"]`` tells hooks whether the
        reply is streamed to a consumer (a hook's ``Skip`` result reaches it as one response,
        no chunks)."""
        started = time.monotonic()
        opened = await self.emit(
            "llm.request", {"model": model, "messages": len(request.messages)}
        )
        token = (
            OPERATION.set(opened.seq)
            if self.track_operations and type(opened) is Event else None
        )
        try:
            ctx = HookContext(
                HookPoint.BEFORE_LLM_CALL, "llm_call", model, request, run_id=self.run_id,
                metadata={"stream": stream},
            )
            try:
                response: ChatResponse = await self.hooks.guard(
                    "llm_call", model, request, call, run_id=self.run_id, ctx=ctx
                )
            except LlmspellError as err:
                await self.emit(
                    "llm.failed",
                    {"model": model, "error": err.to_dict(),
                     "seconds": round(time.monotonic() - started, 6)},
                )
                raise
            await self.emit(
                "llm.response",
                {
                    "model": model,
                    "usage": response.usage.to_dict(),
                    "seconds": round(time.monotonic() - started, 6),
                },
            )
        finally:
            if token is not None:
                OPERATION.reset(token)
        return response

    # --- agents --------------------------------------------------------------------------------

    async def run_agent(
        self, agent: Any, input: Any, *, on_text: Callable[[str], Any] | None = None
    ) -> Result:
        """Run an agent (or workflow) through its ``agent`` (``workflow``) hooks and events;
        with ``on_text``, stream the model's text to it (agents with a ``stream`` method)."""
        kind = getattr(agent, "hook_kind", "agent")
        if on_text is not None and not hasattr(agent, "stream"):
            raise LlmspellError(
                "invalid_args", f"{kind} {agent.name!r} cannot stream", {kind: agent.name}
            )

        def go(value: Any) -> Awaitable[Result]:
            if on_text is not None:
                return agent.stream(value, self, on_text)
            return agent.run(value, self)

        opened = await self.emit(f"{kind}.started", {kind: agent.name})
        token = (
            OPERATION.set(opened.seq)
            if self.track_operations and type(opened) is Event else None
        )
        try:
            try:
                result: Result = await self.hooks.guard(
                    kind, agent.name, input, go, run_id=self.run_id
                )
            except LlmspellError as err:
                await self.emit(f"{kind}.failed", {kind: agent.name, "error": err.to_dict()})
                raise
            await self.emit(f"{kind}.finished", {kind: agent.name})
        finally:
            if token is not None:
                OPERATION.reset(token)
        return result


def single_error(group: BaseExceptionGroup) -> BaseException:
    """The one exception to raise for a failed nursery: its only leaf, else the first
    ``LlmspellError`` among its leaves (the others listed in its details), else the group."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for sub in exc.exceptions:
                walk(sub)
        else:
            leaves.append(exc)

    walk(group)
    if len(leaves) == 1:
        return leaves[0]
    for leaf in leaves:
        if isinstance(leaf, LlmspellError):
            leaf.details.setdefault("also_failed", [repr(x) for x in leaves if x is not leaf])
            return leaf
    return group


def _provider_failure(model: str, exc: Exception) -> LlmspellError:
    return LlmspellError(
        "provider_error",
        f"model {model!r} failed: {type(exc).__name__}: {exc}",
        {"model": model, "type": type(exc).__name__},
    )
