"""A script session: what one spell run's engine shares with the host operations.

The engine owns script execution; the session owns everything that lives in Python: handles
(agents, subscriptions, hooks, tasks), the script callbacks registered with the host, and the
task semantics of DESIGN.md §4, which are therefore identical in every engine.

Script tasks are trio tasks. ``Task.spawn(fn)`` starts a trio task in the run's nursery that asks
the engine to run the callback as a new script task (:meth:`Callback.__call__`); host operations
requested by that script task run inside it, so cancelling the task cancels its in-flight host
calls, and the engine never resumes a cancelled script task.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

import attrs
import trio

from llmspell.errors import LlmspellError
from llmspell.runtime import SpellRun


class Callback(Protocol):
    """A script function handed to the host. Calling it runs the function as a new script task
    (it may wait on host operations) and returns its JSON result; a script error is raised as
    ``LlmspellError``."""

    name: str

    async def __call__(self, *args: Any) -> Any: ...


@attrs.define(eq=False)
class TaskRecord:
    """One spawned script task."""

    id: int
    name: str
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    done: trio.Event = attrs.field(factory=trio.Event)
    result: Any = None
    error: LlmspellError | None = None
    cancelled: bool = False
    observed: bool = False

    def outcome(self) -> Any:
        """The result, or raise the task's error (``cancelled`` if it was cancelled)."""
        self.observed = True
        if self.cancelled:
            raise LlmspellError("cancelled", f"task {self.name!r} was cancelled", {"task": self.id})
        if self.error is not None:
            raise self.error
        return self.result


def is_task_ref(item: Any) -> bool:
    """Whether ``item`` is a task handle (as opposed to a function to start)."""
    return isinstance(item, dict) and item.get("kind") == "task"


def handle_ref(kind: str, hid: int, **extra: Any) -> dict[str, Any]:
    """How a Python object crosses into a script: ``{"__handle": id, "kind": kind, ...}``."""
    return {"__handle": hid, "kind": kind, **extra}


@attrs.define(eq=False)
class ScriptSession:
    """Per-run state of a script bridge. ``output`` receives ``print`` text (default: stdout)."""

    run: SpellRun
    filename: str = "<spell>"
    output: Callable[[str], None] = attrs.field(default=lambda text: print(text, flush=True))
    _handles: dict[int, Any] = attrs.field(factory=dict, alias="_handles")
    _next: int = attrs.field(default=0, alias="_next")
    tasks: dict[int, TaskRecord] = attrs.field(factory=dict)
    #: undo actions run by :meth:`close` (unsubscribe handlers, remove hooks)
    closers: list[Callable[[], Any]] = attrs.field(factory=list)

    def close(self) -> None:
        """Remove the spell's event handlers and hooks (at the end of the spell)."""
        while self.closers:
            self.closers.pop()()

    async def finish(self) -> None:
        """End the spell after its main chunk returned: wait for every spawned task, remove
        handlers and hooks, then raise the first failure of a task nobody waited on."""
        while True:
            pending = [r for r in self.tasks.values() if not r.done.is_set()]
            if not pending:
                break
            for record in pending:
                await record.done.wait()
        self.close()
        failure = self.unobserved_failure()
        if failure is not None:
            raise failure

    # --- handles -------------------------------------------------------------------------------

    def new_handle(self, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        self._next += 1
        self._handles[self._next] = (kind, obj)
        return handle_ref(kind, self._next, **extra)

    def resolve(self, ref: Any, kind: str) -> Any:
        """The object behind handle ``ref`` of ``kind``; ``invalid_args`` otherwise."""
        hid = ref.get("__handle") if isinstance(ref, dict) else None
        entry = self._handles.get(hid) if isinstance(hid, int) else None
        if entry is None or entry[0] != kind:
            raise LlmspellError(
                "invalid_args", f"expected a {kind} handle, got {ref!r}", {"expected": kind}
            )
        return entry[1]

    def drop(self, ref: Any, kind: str) -> Any:
        obj = self.resolve(ref, kind)
        del self._handles[ref["__handle"]]
        return obj

    # --- tasks ---------------------------------------------------------------------------------

    def spawn(self, fn: Callable[[], Awaitable[Any]], name: str) -> TaskRecord:
        """Start ``fn()`` as a script task in the run's nursery and return its record."""
        self._next += 1
        record = TaskRecord(self._next, name)
        self.tasks[record.id] = record
        self._handles[record.id] = ("task", record)

        async def body() -> None:
            try:
                with record.scope:
                    record.result = await fn()
            except LlmspellError as err:
                record.error = err
            finally:
                if record.scope.cancelled_caught:
                    record.cancelled = True
                record.done.set()

        self.run.spawn(body, name=f"task:{name}")
        return record

    def task_ref(self, record: TaskRecord) -> dict[str, Any]:
        return handle_ref("task", record.id, name=record.name)

    def as_task(self, item: Any, what: str) -> TaskRecord:
        """A task handle, or a callback to spawn now."""
        if is_task_ref(item):
            record: TaskRecord = self.resolve(item, "task")
            return record
        if callable(item):
            return self.spawn(item, getattr(item, "name", what))
        raise LlmspellError(
            "invalid_args",
            f"{what}: expected a function or a task handle, got {type(item).__name__}",
            {"argument": what},
        )

    async def wait(self, record: TaskRecord) -> Any:
        await record.done.wait()
        return record.outcome()

    async def all(self, items: list[Any]) -> list[Any]:
        """Results in list order; the first failure cancels the others and is raised. If the
        caller is cancelled, the tasks this call started are cancelled with it."""
        records = [self.as_task(item, f"Task.all item {i + 1}") for i, item in enumerate(items)]
        with self._owning(items, records):
            return await self._all(records)

    async def _all(self, records: list[TaskRecord]) -> list[Any]:
        results: list[Any] = [None] * len(records)
        failure: list[BaseException] = []

        async with trio.open_nursery() as nursery:

            async def one(i: int, record: TaskRecord) -> None:
                try:
                    results[i] = await self.wait(record)
                except LlmspellError as err:
                    if not failure:
                        failure.append(err)
                        for other in records:
                            other.scope.cancel()
                            other.observed = True
                        nursery.cancel_scope.cancel()

            for i, record in enumerate(records):
                nursery.start_soon(one, i, record)
        if failure:
            await _settled(records)
            raise failure[0]
        return results

    async def race(self, items: list[Any]) -> Any:
        """The outcome of the first task to finish; the others are cancelled. If the caller is
        cancelled, the tasks this call started are cancelled with it."""
        records = [self.as_task(item, f"Task.race item {i + 1}") for i, item in enumerate(items)]
        if not records:
            raise LlmspellError("invalid_args", "Task.race needs at least one task")
        with self._owning(items, records):
            return await self._race(records)

    async def _race(self, records: list[TaskRecord]) -> Any:
        winner: list[TaskRecord] = []
        async with trio.open_nursery() as nursery:

            async def one(record: TaskRecord) -> None:
                await record.done.wait()
                if not winner:
                    winner.append(record)
                    nursery.cancel_scope.cancel()

            for record in records:
                nursery.start_soon(one, record)
        for record in records:
            if record is not winner[0]:
                record.scope.cancel()
                record.observed = True
        await _settled(records)
        return winner[0].outcome()

    async def timeout(self, seconds: float, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``fn`` as a task; cancel it after ``seconds`` and raise code ``timeout``."""
        seconds = check_seconds(seconds, "Task.timeout")
        record = self.spawn(fn, getattr(fn, "name", "timeout"))
        with self._owning([fn], [record]), trio.move_on_after(seconds):
            return await self.wait(record)
        record.scope.cancel()
        record.observed = True
        await _settled([record])
        raise LlmspellError(
            "timeout", f"task did not finish within {seconds} s", {"seconds": seconds}
        )

    @contextlib.contextmanager
    def _owning(self, items: list[Any], records: list[TaskRecord]) -> Iterator[None]:
        """Cancel the tasks a combinator started itself (not the handles it was given) when
        the combinator is left by an exception (its caller's cancellation included)."""
        try:
            yield
        except BaseException:
            for item, record in zip(items, records, strict=True):
                if not is_task_ref(item):
                    record.scope.cancel()
                    record.observed = True
            raise

    def cancel(self, record: TaskRecord) -> None:
        record.observed = True
        record.scope.cancel()

    def unobserved_failure(self) -> LlmspellError | None:
        """The first failed task nobody waited on (it fails the spell)."""
        for record in self.tasks.values():
            if record.error is not None and not record.observed and not record.cancelled:
                return record.error
        return None


async def _settled(records: list[TaskRecord]) -> None:
    """Wait until every record's task has ended (cancelled ones end at their next checkpoint)."""
    with trio.CancelScope(shield=True):
        for record in records:
            await record.done.wait()


def check_seconds(value: Any, what: str) -> float:
    """A duration in seconds: a finite number >= 0, else ``invalid_args``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0 or (
        isinstance(value, float) and math.isinf(value)
    ):
        raise LlmspellError(
            "invalid_args", f"{what}: seconds must be a number >= 0, got {value!r}",
            {"argument": "seconds"},
        )
    return float(value)
