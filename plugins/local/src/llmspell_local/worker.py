"""Blocking work in a worker thread, driven from trio.

:meth:`WorkerJob.start` runs ``work(emit, cancel)`` in a thread of trio's thread cache
(``trio.lowlevel.start_thread_soon``, what ``trio.to_thread.run_sync`` is built on). ``emit(item)``
hands an item to the trio side without blocking the thread (``TrioToken.run_sync_soon`` into an
unbounded memory channel, in order); the items arrive on :attr:`WorkerJob.items`, then the channel
closes and :meth:`WorkerJob.result` gives the work's return value or raises what it raised.

Stopping is cooperative: :meth:`WorkerJob.stop` sets ``cancel`` (the work looks at it after every
token) and waits, shielded, until the thread has returned, so no thread outlives the task that
started it. :meth:`result` does this when its caller is cancelled. A stream does not use a
nursery, so an async generator can yield the items safely.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import trio

R = TypeVar("R")

#: The signature of work run by a :class:`WorkerJob`.
Work = Callable[[Callable[[Any], None], threading.Event], R]


class WorkerJob(Generic[R]):
    """One piece of blocking work in one worker thread (see the module docstring)."""

    def __init__(self, work: Work[R], *, name: str = "llmspell-local") -> None:
        self.cancel = threading.Event()
        self._token = trio.lowlevel.current_trio_token()
        self._send, self.items = trio.open_memory_channel[Any](math.inf)
        self._done = trio.Event()
        self._outcome: Any = None
        self._work = work
        self._name = name

    @classmethod
    def start(cls, work: Work[R], *, name: str = "llmspell-local") -> WorkerJob[R]:
        """Start ``work(emit, cancel)`` in a worker thread now. Call from a trio task."""
        job = cls(work, name=name)
        trio.lowlevel.start_thread_soon(job._run, job._deliver, name=name)
        return job

    @property
    def finished(self) -> bool:
        """Whether the thread has returned (and its outcome reached trio)."""
        return self._done.is_set()

    # --- in the worker thread -----------------------------------------------------------------

    def _run(self) -> R:
        return self._work(self._emit, self.cancel)

    def _emit(self, item: Any) -> None:
        self._soon(self._put, item)

    def _deliver(self, outcome: Any) -> None:
        self._soon(self._finish, outcome)

    def _soon(self, fn: Callable[..., object], *args: Any) -> None:
        try:
            self._token.run_sync_soon(fn, *args)
        except trio.RunFinishedError:
            self.cancel.set()  # nobody is left to receive: stop generating

    # --- in the trio thread -------------------------------------------------------------------

    def _put(self, item: Any) -> None:
        try:
            self._send.send_nowait(item)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.cancel.set()  # the receiver is gone

    def _finish(self, outcome: Any) -> None:
        self._outcome = outcome
        self._send.close()
        self._done.set()

    # --- trio API -----------------------------------------------------------------------------

    async def result(self) -> R:
        """Wait for the work to return and give its value (or raise its exception). When the
        caller is cancelled, the work is stopped and waited for first."""
        try:
            await self._done.wait()
        finally:
            if not self._done.is_set():
                await self.stop()
        value: R = self._outcome.unwrap()
        return value

    async def stop(self) -> None:
        """Ask the work to stop and wait (shielded from cancellation) until its thread has
        returned; its outcome is dropped."""
        self.cancel.set()
        with trio.CancelScope(shield=True):
            await self._done.wait()


async def run_in_worker(work: Work[R], *, name: str = "llmspell-local") -> R:
    """``work(emit, cancel)`` in a worker thread, its return value back in trio; items it emits
    are dropped. Cancelling the caller stops the work (see :class:`WorkerJob`)."""
    return await WorkerJob.start(work, name=name).result()
