"""The limits of each slice are enforced by the context's interrupt handler
(``llmspell_js._native.SliceGuard``), not by the binding's time limit: these tests fail if that
fast path is silently off, and check that the fallback without it keeps every limit."""

from __future__ import annotations

import gc
import signal
import time
from typing import Any

import pytest

from llmspell.security import Limits
from llmspell_js import _native
from llmspell_js import engine as js_engine


@pytest.fixture
def bridges(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every JsBridge made (and, at each outbox it takes, whether the binding's own time limit
    was set on its context)."""
    made: list[Any] = []
    real_init = js_engine.JsBridge.__init__
    real_flush = js_engine.JsBridge._flush

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self.binding_limit_seen = False
        made.append(self)

    def flush(self: Any) -> None:
        if self._guard is not None:
            data = _native._RuntimeData.from_address(id(self.ctx))
            self.binding_limit_seen |= bool(data.has_time_limit)
        real_flush(self)

    monkeypatch.setattr(js_engine.JsBridge, "__init__", init)
    monkeypatch.setattr(js_engine.JsBridge, "_flush", flush)
    return made


@pytest.fixture
def without_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """Contexts made as if the binding were not the one _native was written for."""
    loader = js_engine.PreludeLoader()
    loader.checked = True  # _native.loader() found nothing it can use
    monkeypatch.setattr(js_engine, "_PRELUDE_LOADER", loader)


async def test_spell_slices_are_guarded_by_the_interrupt_handler(js, bridges) -> None:
    # if this fails, every slice falls back to the binding's time limit (correct, but a
    # system call per call into JS and two per slice more)
    assert _native.loader() is not None
    out = await js("""
        let n = 0;
        for (let i = 0; i < 50; i++) {
          await State.set("k", i, "spell");
          n += await State.get("k", "spell");
        }
        export default n;
    """)
    assert out.result == sum(range(50))
    assert bridges and all(b._guard is not None for b in bridges)
    assert not any(b.binding_limit_seen for b in bridges)
    # every slice was charged (its wall time: never less than the CPU time it used)
    assert all(b.cpu_used > 0 for b in bridges)


@pytest.mark.parametrize("native", [True, False], ids=["guard", "binding limit"])
async def test_both_ways_enforce_every_limit(js, bridges, request, native) -> None:
    if not native:
        request.getfixturevalue("without_native")
    out = await js("print('start');\nwhile (true) {}\n", limits=Limits(cpu_seconds=0.2),
                   expect_error=True)
    assert out.error.code == "limit" and out.error.details["limit"] == "cpu_seconds"
    assert out.output == ["start"]
    out = await js("let n = 0;\ntry { while (true) n++ } catch (e) { print('caught') }\n",
                   limits=Limits(cpu_seconds=10, wall_seconds=0.3), expect_error=True)
    assert out.error.code == "limit" and out.error.details["limit"] == "wall_seconds"
    assert out.output == []
    out = await js("""
        for (;;) { const t = Date.now(); while (Date.now() - t < 20) {} await Task.sleep(0) }
    """, limits=Limits(cpu_seconds=0.2), expect_error=True)
    assert out.error.details["limit"] == "cpu_seconds"  # the budget adds up over slices
    out = await js("export default await State.get('missing', 'spell') ?? 'fine';",
                   limits=Limits(cpu_seconds=1))
    assert out.result == "fine"
    assert all((b._guard is not None) is native for b in bridges)


def test_the_guard_interrupts_for_cpu_and_for_wall_time() -> None:
    guard = _native.SliceGuard()
    guard.arm(time.perf_counter(), 0.02, None)
    while not guard.check():  # what the interrupt handler asks, every few thousand ops
        pass
    assert guard.hit == "cpu"
    assert guard.disarm() >= 0.02  # measured on the thread's CPU clock from the first check
    assert not guard.active

    guard.arm(time.perf_counter(), 10.0, time.perf_counter() - 1)
    assert guard.check() == 1 and guard.hit == "wall"
    guard.disarm()
    guard.arm(time.perf_counter(), None, None)
    assert guard.check() == 0 and guard.hit is None
    guard.disarm()
    # a short slice the handler never looked at is charged its wall time
    guard.arm(time.perf_counter(), 10.0, None)
    assert guard.disarm() >= 0.0 and guard.cpu0 is None


def test_the_handler_lets_run_what_no_active_guard_limits() -> None:
    loader = js_engine.PreludeLoader()
    ctx, _, guard = loader.new_context()
    assert guard is not None
    # a disarmed guard: no limit, whatever it was armed with before
    guard.arm(time.perf_counter(), 0.0, time.perf_counter() - 1)
    guard.disarm()
    assert ctx.eval("let n = 0; for (let i = 0; i < 300000; i++) n += i; n") == sum(range(300000))
    # the guard gone (the context outlives its bridge): the handler finds none and says go on
    del guard
    gc.collect()
    assert ctx.eval("n = 0; for (let i = 0; i < 300000; i++) n += 1; n") == 300000
    assert _native._interrupt(None, None) == 0 and _native._interrupt(None, 10**9) == 0


class Alarm(BaseException):
    """What the test's signal handler raises (as Ctrl-C raises KeyboardInterrupt)."""


def _alarms(exc: BaseException) -> bool:
    if isinstance(exc, Alarm):
        return True
    return isinstance(exc, BaseExceptionGroup) and any(_alarms(e) for e in exc.exceptions)


async def test_a_signal_during_the_js_stops_it_and_is_raised(js) -> None:
    # a signal handler runs in the interrupt handler while JS runs: its exception (Ctrl-C's
    # KeyboardInterrupt) is not lost -- the JS stops and the exception comes out of the run
    def handler(signum: int, frame: Any) -> None:
        raise Alarm

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(BaseException) as info:
            # the wall limit only ends the test if the signal were lost
            await js("while (true) {}", limits=Limits(cpu_seconds=None, wall_seconds=5))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert _alarms(info.value), info.value
    assert not _native.SIGNALS
    assert (await js("export default 'next';")).result == "next"
