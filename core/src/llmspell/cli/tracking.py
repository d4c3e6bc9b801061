"""What runs now in a spell run, and its totals: the :class:`Tracker` behind ``llmspell run``'s
progress (see :mod:`llmspell.cli.progress` for how it is shown).

A :class:`Tracker` is fed every event of the run through ``run.events.tap`` (a synchronous
observer: it must be cheap and must never raise, so it swallows its own failures). It keeps the
open *frames* -- workflows, workflow steps, agents, tool calls and model calls in flight -- as a
tree, and the run's totals (model calls, tokens in/out, cost). A frame belongs to the trio task
that opened it; an event is placed under the innermost open frame of its task or of the nearest
ancestor task that has one, so parallel branches each get their own subtree. ``observe``
returns the plain lines an event is worth (see :mod:`llmspell.cli.progress` for which).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

if TYPE_CHECKING:
    from llmspell.events import Event

#: Frame lines the live status shows at most (the rest are counted in one more line).
MAX_FRAME_LINES = 10
#: Kinds of frames that get plain lines when they start and finish.
ANNOUNCED = frozenset({"workflow", "step", "agent"})


# --- formatting -------------------------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    """``2.3 s``, ``1 min 05 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def format_cost(cost: float) -> str:
    """``$0.0012`` below a dollar, ``$1.23`` from one; ``<$0.0001`` for tiny non-zero costs."""
    if 0 < cost < 0.00005:
        return "<$0.0001"
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"


def format_usage(llm_calls: int, tokens: int, cost: float | None, *, calls: bool = True) -> str:
    """``3 llm calls · 1,234 tokens · $0.0012`` (cost only when known); empty without calls."""
    if not llm_calls:
        return ""
    parts = [f"{llm_calls} llm call{'' if llm_calls == 1 else 's'}"] if calls else []
    parts.append(f"{tokens:,} tokens")
    if cost is not None:
        parts.append(format_cost(cost))
    return " · ".join(parts)


def format_summary(status: str, seconds: float, llm_calls: int, tokens: int,
                   cost: float | None) -> str:
    """The one line a run leaves: ``done in 2.3 s · 3 llm calls · 1,234 tokens · $0.0012``
    (``failed after ...``, ``interrupted after ...``)."""
    lead = {"ok": "done in", "failed": "failed after"}.get(status, "interrupted after")
    usage = format_usage(llm_calls, tokens, cost)
    return f"{lead} {format_seconds(seconds)}" + (f" · {usage}" if usage else "")


# --- tracking ---------------------------------------------------------------------------------


class Frame:
    """Something running now: a workflow, a step, an agent, a tool call or a model call.

    ``tokens``, ``cost`` and ``llm_calls`` add up the model calls made inside it (nested frames
    included); ``cost`` stays ``None`` until a call reports one. ``key`` is what its closing
    event must match; ``task`` is the trio task that opened it. (A plain class: ``llmspell run``
    imports this module at every start.)"""

    __slots__ = ("attempt", "children", "cost", "handoff", "key", "kind", "llm_calls", "name",
                 "parent", "started", "task", "tokens")

    def __init__(self, kind: str, name: str, key: tuple[Any, ...], started: float, task: Any,
                 parent: Frame | None, attempt: int = 1) -> None:
        self.kind = kind
        self.name = name
        self.key = key
        self.started = started
        self.task = task
        self.parent = parent
        self.attempt = attempt
        self.tokens = 0
        self.cost: float | None = None
        self.llm_calls = 0
        #: the agent this one is handing off to (``agent.handoff``), shown in the live status
        self.handoff: str | None = None
        self.children: list[Frame] = []

    def __repr__(self) -> str:
        return f"Frame({self.kind!r}, {self.name!r})"

    def label(self) -> str:
        text = f"{self.kind} {self.name}"
        if self.kind == "step" and self.attempt > 1:
            text += f" (attempt {self.attempt})"
        if self.handoff:
            text += f" → {self.handoff}"
        return text

    def usage(self) -> str:
        """`` (812 tokens, $0.0010)`` or nothing when no model was called inside."""
        if not self.llm_calls:
            return ""
        text = f"{self.tokens:,} tokens"
        if self.cost is not None:
            text += f", {format_cost(self.cost)}"
        return f" ({text})"


def _text(value: Any, default: str = "?") -> str:
    return value if isinstance(value, str) and value else default


def _error_message(data: Any) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return "failed"


def _current_task(current_task: Callable[[], Any] = trio.lowlevel.current_task) -> Any:
    try:
        return current_task()
    except RuntimeError:  # published from outside trio (a thread): no task to place it under
        return None


#: ``on_line(seconds since start, text)``: a plain progress line
OnLine = Callable[[float, str], None]


class Tracker:
    """What runs now and what the run used so far, built from the run's events.

    :meth:`observe` is the tap (``run.events.tap(tracker.observe)``): it never raises, and
    topics it does not track cost it one dictionary lookup. Its state is guarded by ``lock``
    because the live display reads it from rich's thread. ``on_line`` receives the plain lines
    (see the module docstring) as they happen.
    """

    def __init__(self, on_line: OnLine | None = None, *, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.started = clock()
        self.ended: float | None = None
        self.on_line = on_line
        self.lock = threading.Lock()
        self.spell: str | None = None
        self.run_id: str | None = None
        #: "running", then "ok" or "failed" (from ``spell.finished``/``spell.failed``)
        self.status = "running"
        self.llm_calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost: float | None = None
        #: failures of :meth:`observe` itself (swallowed)
        self.errors = 0
        self.roots: list[Frame] = []
        self._stacks: dict[Any, list[Frame]] = {}

    # --- the tap -------------------------------------------------------------------------------

    def observe(self, event: Event) -> None:
        """Take one event into account. Never raises."""
        handler = _HANDLERS.get(event.topic)
        if handler is None:
            return
        try:
            with self.lock:
                lines = handler(self, event)
        except Exception:
            self.errors += 1
            return
        if lines and self.on_line is not None:
            at = event.timestamp - self.started
            for line in lines:
                try:
                    self.on_line(at, line)
                except Exception:
                    self.errors += 1

    # --- results -------------------------------------------------------------------------------

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def elapsed(self) -> float:
        """Seconds since the tracker started (until :meth:`finish`)."""
        return (self.ended if self.ended is not None else self.clock()) - self.started

    def finish(self, status: str | None = None) -> list[str]:
        """End the run's tracking: close every frame still open (reported as failed: they
        never finished) and fix the status (``status`` wins over what the events said).
        Returns the lines of the frames it closed."""
        with self.lock:
            if self.ended is None:
                self.ended = self.clock()
            if status is not None:
                self.status = status
            elif self.status == "running":
                self.status = "ok"
            lines: list[str] = []
            for task in list(self._stacks):
                lines += self._unwind(task, 0)
            return lines

    def summary(self) -> str:
        return format_summary(self.status, self.elapsed(), self.llm_calls, self.total_tokens,
                              self.cost)

    def usage(self) -> dict[str, Any]:
        """Totals as JSON data (the ``usage`` of ``llmspell run --json``)."""
        with self.lock:
            return {
                "llm_calls": self.llm_calls,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "total_tokens": self.total_tokens,
                "cost": None if self.cost is None else round(self.cost, 10),
                "seconds": round(self.elapsed(), 3),
            }

    def snapshot(self, limit: int = MAX_FRAME_LINES) -> tuple[list[tuple[int, Frame]], int]:
        """Up to ``limit`` open frames in tree order as ``(depth, frame)``, and how many more
        there are. Takes the lock; the frames' fields may change after it returns."""
        shown: list[tuple[int, Frame]] = []
        hidden = 0
        with self.lock:
            todo = [(0, f) for f in reversed(self.roots)]
            while todo:
                depth, frame = todo.pop()
                if len(shown) < limit:
                    shown.append((depth, frame))
                else:
                    hidden += 1
                todo.extend((depth + 1, c) for c in reversed(frame.children))
        return shown, hidden

    # --- frames (called with the lock held) ----------------------------------------------------

    def _enclosing(self, task: Any) -> Frame | None:
        """The innermost open frame of ``task`` or of its nearest ancestor task with one."""
        stacks = self._stacks
        while task is not None:
            stack = stacks.get(task)
            if stack:
                return stack[-1]
            nursery = task.parent_nursery
            task = nursery.parent_task if nursery is not None else None
        return None

    def _push(self, kind: str, name: str, key: tuple[Any, ...], event: Event,
              attempt: int = 1) -> Frame:
        task = _current_task()
        parent = self._enclosing(task)
        frame = Frame(kind, name, key, event.timestamp, task, parent, attempt)
        (parent.children if parent is not None else self.roots).append(frame)
        self._stacks.setdefault(task, []).append(frame)
        return frame

    def _pop(self, key: tuple[Any, ...]) -> tuple[Frame | None, list[str]]:
        """Close the innermost frame of the current task with ``key`` and every frame opened
        above it (those ended without their own event: failed). ``None`` if there is none."""
        task = _current_task()
        stack = self._stacks.get(task)
        if not stack:
            return None, []
        for index in range(len(stack) - 1, -1, -1):
            if stack[index].key == key:
                lines = self._unwind(task, index + 1) if index + 1 < len(stack) else []
                frame = stack.pop()
                self._detach(frame)
                if not stack:
                    del self._stacks[task]
                return frame, lines
        return None, []

    def _unwind(self, task: Any, keep: int) -> list[str]:
        """Close the frames of ``task`` above the first ``keep`` ones, as failed."""
        stack = self._stacks.get(task, [])
        lines: list[str] = []
        while len(stack) > keep:
            frame = stack.pop()
            self._detach(frame)
            if frame.kind in ANNOUNCED:
                lines.append(f"{frame.kind} {self._line_name(frame)} failed{frame.usage()}")
        if not stack:
            self._stacks.pop(task, None)
        return lines

    def _detach(self, frame: Frame) -> None:
        siblings = frame.parent.children if frame.parent is not None else self.roots
        try:
            siblings.remove(frame)
        except ValueError:
            pass

    @staticmethod
    def _line_name(frame: Frame) -> str:
        return "/".join(str(k) for k in frame.key[1:]) if frame.kind == "step" else frame.name

    def _add_usage(self, frame: Frame | None, usage: Any) -> None:
        if not isinstance(usage, dict):
            usage = {}
        tin = usage.get("input_tokens")
        tout = usage.get("output_tokens")
        tin = tin if isinstance(tin, int) else 0
        tout = tout if isinstance(tout, int) else 0
        total = usage.get("total_tokens")
        tokens = total if isinstance(total, int) else tin + tout
        cost = usage.get("cost")
        cost = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) \
            else None
        self.llm_calls += 1
        self.input_tokens += tin
        self.output_tokens += tout
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost
        while frame is not None:
            frame.llm_calls += 1
            frame.tokens += tokens
            if cost is not None:
                frame.cost = (frame.cost or 0.0) + cost
            frame = frame.parent

    # --- event handlers (called with the lock held; return plain lines) -----------------------

    def _spell_started(self, event: Event) -> list[str]:
        data = event.data if isinstance(event.data, dict) else {}
        self.spell = os.path.basename(_text(data.get("spell"), "spell"))
        return []

    def _spell_ended(self, event: Event) -> list[str]:
        self.status = "ok" if event.topic == "spell.finished" else "failed"
        lines: list[str] = []
        for task in list(self._stacks):
            lines += self._unwind(task, 0)
        return lines

    def _started(self, event: Event) -> list[str]:
        kind = event.topic.partition(".")[0]  # agent / workflow
        data = event.data if isinstance(event.data, dict) else {}
        name = _text(data.get(kind))
        self._push(kind, name, (kind, name), event)
        return [f"{kind} {name} started"]

    def _finished(self, event: Event) -> list[str]:
        kind = event.topic.partition(".")[0]
        data = event.data if isinstance(event.data, dict) else {}
        name = _text(data.get(kind))
        frame, lines = self._pop((kind, name))
        if event.topic.endswith(".failed"):
            return [*lines, f"{kind} {name} failed: {_error_message(data)}"]
        return [*lines, f"{kind} {name} finished{frame.usage() if frame else ''}"]

    def _handoff(self, event: Event) -> list[str]:
        data = event.data if isinstance(event.data, dict) else {}
        stack = self._stacks.get(_current_task())
        if stack and stack[-1].kind == "agent":
            stack[-1].handoff = _text(data.get("to"))
        return []

    def _step(self, event: Event) -> list[str]:
        data = event.data if isinstance(event.data, dict) else {}
        workflow, step = _text(data.get("workflow")), _text(data.get("step"))
        attempt = data.get("attempt")
        attempt = attempt if isinstance(attempt, int) else 1
        key = ("step", workflow, step)
        name = f"{workflow}/{step}"
        tail = f" (attempt {attempt})" if attempt > 1 else ""
        what = event.topic.rpartition(".")[2]
        if what == "started":
            self._push("step", step, key, event, attempt)
            return [f"step {name} started{tail}"]
        frame, lines = self._pop(key)
        usage = frame.usage() if frame is not None else ""
        if what == "finished":
            return [*lines, f"step {name} finished{usage}"]
        message = _error_message(data)
        if what == "retrying":
            delay = data.get("delay")
            wait = f" in {format_seconds(delay)}" if isinstance(delay, (int, float)) else ""
            return [*lines, f"step {name} attempt {attempt} failed: {message}; retrying{wait}"]
        going_on = " (continuing)" if data.get("on_error") == "continue" else ""
        return [*lines, f"step {name} failed{tail}{usage}: {message}{going_on}"]

    def _tool(self, event: Event) -> list[str]:
        data = event.data if isinstance(event.data, dict) else {}
        tool = _text(data.get("tool"))
        key = ("tool", data.get("call_id"))
        if event.topic == "tool.started":
            self._push("tool", tool, key, event)
            return []
        _, lines = self._pop(key)
        if event.topic == "tool.failed":
            lines.append(f"tool {tool} failed: {_error_message(data)}")
        return lines

    def _llm(self, event: Event) -> list[str]:
        data = event.data if isinstance(event.data, dict) else {}
        model = _text(data.get("model"))
        key = ("llm", model)
        if event.topic == "llm.request":
            self._push("llm", model, key, event)
            return []
        frame, lines = self._pop(key)
        if event.topic == "llm.response":
            parent = frame.parent if frame is not None else self._enclosing(_current_task())
            self._add_usage(parent, data.get("usage"))
            return lines
        if event.topic == "llm.failed":  # the fallback or the failure around it says more
            return lines
        # llm.fallback
        following = _text(data.get("next"))
        return [*lines, f"llm {model} failed: {_error_message(data)}; falling back to "
                        f"{following}"]


_HANDLERS: dict[str, Callable[[Tracker, Event], list[str]]] = {
    "spell.started": Tracker._spell_started,
    "spell.finished": Tracker._spell_ended,
    "spell.failed": Tracker._spell_ended,
    "agent.started": Tracker._started,
    "workflow.started": Tracker._started,
    "agent.finished": Tracker._finished,
    "workflow.finished": Tracker._finished,
    "agent.failed": Tracker._finished,
    "workflow.failed": Tracker._finished,
    "agent.handoff": Tracker._handoff,
    "workflow.step.started": Tracker._step,
    "workflow.step.finished": Tracker._step,
    "workflow.step.failed": Tracker._step,
    "workflow.step.retrying": Tracker._step,
    "tool.started": Tracker._tool,
    "tool.finished": Tracker._tool,
    "tool.failed": Tracker._tool,
    "llm.request": Tracker._llm,
    "llm.response": Tracker._llm,
    "llm.fallback": Tracker._llm,
    "llm.failed": Tracker._llm,
}
