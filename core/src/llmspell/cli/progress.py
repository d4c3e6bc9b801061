"""Progress of ``llmspell run``: what is running now, tokens, cost and time, while a spell runs.

A :class:`~llmspell.cli.tracking.Tracker` (:mod:`llmspell.cli.tracking`) follows the run's
events; this module shows what it knows.

How it is shown (:func:`choose_mode`):

* ``live``: stderr is a terminal. A rich live status on stderr (refreshed from rich's own thread
  a few times a second) shows the open frames, the elapsed time, tokens and cost; it is
  transient: when the run ends it disappears, leaving one summary line such as
  ``done in 2.3 s · 3 llm calls · 1,234 tokens · $0.0012``. While it shows, ``sys.stderr`` (the
  spell's ``Log`` lines) and -- when stdout is the same terminal -- ``sys.stdout`` (its
  ``print`` lines) are written through the live display's console, so they scroll above the
  status instead of being overwritten; when stdout is elsewhere (a pipe, a file) it is left
  alone. The display stops while a tool's approval is asked on the terminal.
* ``lines``: stderr is not an interactive terminal (a pipe, a file, CI, ``TERM=dumb``): plain
  lines on stderr, written by a thread of their own so a slow reader never holds up the run;
  the summary only for runs that called a model or took a second or more (a spell that does
  neither adds nothing to stderr)::

      [0.0s] workflow pipeline started
      [0.0s] step pipeline/research started
      [0.0s] agent researcher started
      [1.2s] agent researcher finished (812 tokens, $0.0010)
      [1.3s] tool web_search failed: ...
      [3.4s] done in 3.4 s · 3 llm calls · 1,234 tokens · $0.0012

* ``off``: nothing (``--quiet``, ``--json``, ``--no-progress``).

What counts as noise (never a plain line; the live status shows some of it while it lasts):
model requests and responses (their tokens and cost go into the totals), tool calls that
succeed, streamed chunks, ``state.changed``, ``log.*`` (the ``Log`` line itself is printed),
``agent.handoff`` (the next ``agent ... started`` line says it), ``spell.started`` and events of
spells and plugins. Lines are written for workflows, steps and agents starting and finishing,
and for every failure: a failed step, tool call, step attempt that will be retried, model that
falls back to the next, and an agent or workflow that ended without its ``finished`` event.

A failed agent or workflow (``agent.failed``, ``workflow.failed``) gets its line with the
error; a frame whose end event never comes (a task cancelled mid-way) is closed, and reported
as failed, when an enclosing frame of its task closes or when the run ends.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

import click

from llmspell.cli.tracking import (
    ANNOUNCED,
    Tracker,
    format_seconds,
    format_summary,
    format_usage,
)
from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from llmspell.cli.app import CliState
    from llmspell.lifecycle import HookContext
    from llmspell.runtime import Approver
    from llmspell.tools import Tool

__all__ = [
    "LineDisplay",
    "LiveDisplay",
    "Tracker",
    "choose_mode",
    "format_summary",
    "run_with_output",
]

#: How often rich's thread redraws the live status (per second).
REFRESH_PER_SECOND = 4
#: Priority of the ``spell_start`` hook that attaches the tracker: after every other hook.
ATTACH_PRIORITY = -(10**9)


# --- modes ------------------------------------------------------------------------------------


def interactive_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal that can redraw a status (not ``TERM=dumb``)."""
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
    if not tty:
        return False
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return False
    return os.environ.get("TTY_INTERACTIVE", "") != "0"  # rich's own switch


def choose_mode(progress: bool | None, *, quiet: bool = False, json_output: bool = False,
                stream: Any = None) -> str:
    """``"live"``, ``"lines"`` or ``"off"`` for ``llmspell run``'s options.

    ``progress`` is ``--progress`` (True), ``--no-progress`` (False) or neither (None: on,
    except with ``--json``). ``--quiet`` turns it off. When on: ``live`` on an interactive
    terminal (``stream``, default stderr), ``lines`` elsewhere."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return "off"
    if progress is None:
        progress = not json_output
    if not progress:
        return "off"
    return "live" if interactive_terminal(stream) else "lines"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def worth_a_summary(tracker: Tracker) -> bool:
    """A summary for runs that called a model or ran for a second or more (not for a spell
    that printed one line at once)."""
    return tracker.llm_calls > 0 or tracker.elapsed() >= 1.0


# --- plain lines ------------------------------------------------------------------------------


class LineDisplay:
    """Plain progress lines (``[1.2s] agent researcher started``) on ``stream``, written by a
    daemon thread so the run never waits for the reader; a write that fails ends the display
    quietly. Use as a context manager around the run; :meth:`close` writes the summary."""

    def __init__(self, tracker: Tracker, stream: TextIO) -> None:
        self.tracker = tracker
        self.stream = stream
        self.broken = False
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        tracker.on_line = self.line

    def line(self, at: float, text: str) -> None:
        """Queue one line (called from the tap)."""
        if not self.broken:
            self._queue.put(f"[{at:.1f}s] {text}\n")

    def _write_all(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.broken:
                continue
            try:
                self.stream.write(item)
                self.stream.flush()
            except Exception:
                self.broken = True

    def __enter__(self) -> LineDisplay:
        self._thread = threading.Thread(target=self._write_all, name="llmspell-progress",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self, status: str) -> None:
        """Close the frames still open, write the last lines and the summary."""
        for text in self.tracker.finish(status):
            self.line(self.tracker.elapsed(), text)
        if worth_a_summary(self.tracker):
            self.line(self.tracker.elapsed(), self.tracker.summary())
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: Any) -> None:
        self.close(_status(exc))


def _status(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, LlmspellError):
        return "failed"
    return "interrupted"


# --- the live status --------------------------------------------------------------------------


class _Lines(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr`` while the live status shows: whole lines go
    through the display's console (so they scroll above the status), a partial line waits for
    its newline or a flush. If the display fails, everything goes to ``original`` again."""

    def __init__(self, display: LiveDisplay, original: TextIO) -> None:
        super().__init__()
        self._display = display
        self.original = original
        self._buffer: list[str] = []

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._display.broken:
            return self.original.write(text)
        rest = text
        while rest:
            line, newline, rest = rest.partition("\n")
            if not newline:
                self._buffer.append(line)
                break
            self._display.print_line("".join(self._buffer) + line, self.original)
            self._buffer.clear()
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            pending = "".join(self._buffer)
            self._buffer.clear()
            self._display.print_line(pending, self.original)
        with contextlib.suppress(Exception):
            self.original.flush()

    def release(self) -> None:
        """Write a pending partial line to ``original`` (the display is going away)."""
        if self._buffer:
            pending = "".join(self._buffer)
            self._buffer.clear()
            with contextlib.suppress(Exception):
                self.original.write(pending)

    def fileno(self) -> int:
        return self.original.fileno()

    def isatty(self) -> bool:
        return self.original.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8") or "utf-8"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class LiveDisplay:
    """A transient rich live status of ``tracker`` on ``stream`` (a terminal), refreshed by
    rich's own thread, with ``sys.stderr`` -- and ``sys.stdout`` when it is the same terminal --
    routed through its console while it shows. Anything that fails in the display ends the
    display, never the run. Use as a context manager; the summary line is printed on exit."""

    def __init__(self, tracker: Tracker, stream: TextIO) -> None:
        self.tracker = tracker
        self.stream = stream
        self.broken = False
        self.console: Console | None = None
        self._live: Any = None
        self._proxies: list[tuple[str, _Lines]] = []
        self._paused = 0
        self._lock = threading.RLock()

    # --- start and stop ------------------------------------------------------------------------

    def __enter__(self) -> LiveDisplay:
        try:
            from rich.console import Console

            self.console = Console(file=self.stream, highlight=False)
            self._start()
        except Exception:
            self._break()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: Any) -> None:
        self.close(_status(exc))

    def close(self, status: str) -> None:
        """Take the status away and print the summary line."""
        self.tracker.finish(status)
        self._stop()
        if self.console is None or not worth_a_summary(self.tracker):
            return
        try:
            style = "red" if self.tracker.status == "failed" else "dim"
            self.console.print(self.tracker.summary(), style=style, markup=False,
                               highlight=False, soft_wrap=True)
        except Exception:
            self.broken = True


    def _start(self) -> None:
        with self._lock:
            if self.broken or self._live is not None or self.console is None:
                return
            self._live = _safe_live()(
                self, console=self.console, get_renderable=self.render, transient=True,
                refresh_per_second=REFRESH_PER_SECOND, redirect_stdout=False,
                redirect_stderr=False,
            )
            self._redirect()
            self._live.start()

    def _stop(self) -> None:
        with self._lock:
            live, self._live = self._live, None
            try:
                if live is not None:
                    live.stop()
            except Exception:
                self.broken = True
            finally:
                self._restore()

    def _break(self) -> None:
        """The display failed (in the run's thread): stop showing it; the run goes on. (In
        rich's refresh thread a failure only sets ``broken``: stopping takes locks there.)"""
        self.broken = True
        with contextlib.suppress(Exception):
            self._stop()

    def _redirect(self) -> None:
        stderr = _Lines(self, sys.stderr)
        self._proxies.append(("stderr", stderr))
        sys.stderr = stderr
        if _same_terminal(sys.stdout, self.stream):
            stdout = _Lines(self, sys.stdout)
            self._proxies.append(("stdout", stdout))
            sys.stdout = stdout

    def _restore(self) -> None:
        while self._proxies:
            name, proxy = self._proxies.pop()
            proxy.release()
            if getattr(sys, name) is proxy:
                setattr(sys, name, proxy.original)

    # --- pausing for a question on the terminal ------------------------------------------------

    def pause(self) -> None:
        """Take the status off the terminal (until :meth:`resume`), e.g. to ask a question."""
        self._paused += 1
        if self._paused == 1:
            self._stop()

    def resume(self) -> None:
        self._paused -= 1
        if self._paused == 0 and not self.broken:
            try:
                self._start()
            except Exception:
                self._break()

    def wrap_approver(self, approver: Approver) -> Approver:
        """``approver`` with the status paused while it asks."""

        async def ask(tool: Tool, args: dict[str, Any]) -> bool:
            self.pause()
            try:
                return await approver(tool, args)
            finally:
                self.resume()

        return ask

    # --- output and rendering ------------------------------------------------------------------

    def print_line(self, line: str, original: TextIO) -> None:
        """Print one line of the spell's output above the status (``original`` if that fails)."""
        if not self.broken and self.console is not None:
            try:
                from rich.text import Text

                self.console.print(Text.from_ansi(line), soft_wrap=True)
                return
            except Exception:
                self._break()
        with contextlib.suppress(Exception):
            original.write(line + "\n")

    def render(self) -> RenderableType:
        """The status: a spinner with the run's totals, then the open frames as a tree."""
        from rich.console import Group
        from rich.spinner import Spinner
        from rich.text import Text

        try:
            tracker = self.tracker
            frames, hidden = tracker.snapshot()
            now = tracker.clock()
            usage = format_usage(tracker.llm_calls, tracker.total_tokens, tracker.cost)
            head = " · ".join(
                p for p in (tracker.spell or "", format_seconds(tracker.elapsed()), usage) if p
            )
            rows: list[RenderableType] = [Spinner("dots", Text(head, style="bold"))]
            for depth, frame in frames:
                row = Text("  " * (depth + 1), no_wrap=True, overflow="ellipsis")
                row.append(frame.label(), style="cyan" if frame.kind in ANNOUNCED else "")
                detail = format_seconds(max(0.0, now - frame.started))
                if frame.kind in ("agent", "workflow") and frame.llm_calls:
                    detail += " · " + format_usage(frame.llm_calls, frame.tokens, frame.cost,
                                                   calls=False)
                row.append(f"  {detail}", style="dim")
                rows.append(row)
            if hidden:
                rows.append(Text(f"  … and {hidden} more", style="dim"))
            return Group(*rows)
        except Exception:
            return Text("")


@functools.cache
def _safe_live() -> Callable[..., Live]:
    """rich's ``Live`` whose refresh never raises: a failure marks its display broken, after
    which it draws nothing (its display stops it from the run's thread)."""
    from rich.live import Live

    class SafeLive(Live):
        def __init__(self, display: LiveDisplay, **options: Any) -> None:
            self.display = display
            super().__init__(**options)

        def refresh(self) -> None:
            if self.display.broken:
                return
            try:
                super().refresh()
            except Exception:
                self.display.broken = True

    return SafeLive


def _same_terminal(stream: Any, other: Any) -> bool:
    """Whether ``stream`` writes to the same terminal as ``other``."""
    try:
        if not stream.isatty():
            return False
        return os.path.samestat(os.fstat(stream.fileno()), os.fstat(other.fileno()))
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return False


# --- llmspell run ---------------------------------------------------------------------------


@contextlib.contextmanager
def _attached(state: CliState, tracker: Tracker, display: LiveDisplay | None) -> Iterator[None]:
    """Tap the events of the run the command opens (found by a ``spell_start`` hook, so spell
    files and workflow files alike) into ``tracker``; pause ``display`` while asking approval."""
    from llmspell.lifecycle import HookPoint

    removers: list[Callable[[], None]] = []

    def attach(ctx: HookContext) -> None:
        run = ctx.run
        if run is None or removers:
            return
        try:
            tracker.run_id = run.run_id
            removers.append(run.events.tap(tracker.observe))
            if display is not None and run.approver is not None:
                run.approver = display.wrap_approver(run.approver)
        except Exception:
            tracker.errors += 1

    hooks = state.kernel.hooks
    handle = hooks.register(HookPoint.SPELL_START, attach, priority=ATTACH_PRIORITY,
                            name="llmspell-progress")
    try:
        yield
    finally:
        hooks.unregister(handle)
        for remove in removers:
            remove()


def _json_document(tracker: Tracker, result: Any, error: LlmspellError | None) -> str:
    failed = error is not None
    document = {
        "run_id": tracker.run_id,
        "status": "failed" if failed else "ok",
        "result": None if failed else result,
        "error": None if error is None else {**error.to_dict(), "hint": error.hint},
        "usage": tracker.usage(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=repr)


#: the loggers of the operation records of ``hooks-logging`` (see docs/hook-logging.md)
OPERATION_LOGGERS = ("llmspell.agent", "llmspell.llm", "llmspell.tool", "llmspell.workflow",
                     "llmspell.workflow.step", "llmspell.state", "llmspell.run")


def _not_a_failure_record(record: logging.LogRecord) -> bool:
    fields = getattr(record, "llmspell", None)
    return not (isinstance(fields, dict) and fields.get("event") == "error")


@contextlib.contextmanager
def _failure_logs_silenced() -> Iterator[None]:
    """While ``llmspell run`` shows progress (which reports every failed operation itself) or
    is quiet, the failure records of operations (``hooks-logging``'s ``event = "error"``) do
    not reach stderr a second time; other records, and a log file, are not affected."""
    loggers = [logging.getLogger(name) for name in OPERATION_LOGGERS]
    for logger in loggers:
        logger.addFilter(_not_a_failure_record)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(_not_a_failure_record)


def run_with_output(
    state: CliState,
    go: Callable[[], Any],
    show: Callable[[Any], None],
    *,
    quiet: bool = False,
    json_output: bool = False,
    progress: bool | None = None,
) -> None:
    """Run ``go()`` (which runs one spell or workflow file) the way ``llmspell run``'s output
    options say, then ``show(result)``.

    * progress (:func:`choose_mode`) on stderr while it runs, then its summary line;
    * ``--quiet``: no progress and no summary (and no cost: nothing is tapped);
    * ``--json``: while it runs, ``sys.stdout`` is stderr (the spell's ``print`` lines go
      there), then stdout gets exactly one JSON document ``{"run_id", "status", "result",
      "error", "usage"}`` instead of ``show``; a failure is still raised afterwards (the
      ``error:`` line on stderr, exit status 1).
    """
    if quiet and progress:
        raise LlmspellError(
            "invalid_args", "--quiet and --progress cannot be used together",
            {"options": ["--quiet", "--progress"]},
        )
    stderr = sys.stderr
    mode = choose_mode(progress, quiet=quiet, json_output=json_output, stream=stderr)
    result: Any = None
    if mode == "off" and not json_output:
        with _failure_logs_silenced() if quiet else contextlib.nullcontext():
            result = go()
        show(result)
        return
    tracker = Tracker()
    error: LlmspellError | None = None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_failure_logs_silenced())
            if json_output:
                stack.enter_context(contextlib.redirect_stdout(stderr))
            display: LiveDisplay | None = None
            if mode == "live":
                display = LiveDisplay(tracker, stderr)
            stack.enter_context(_attached(state, tracker, display))
            tracker.started = tracker.clock()
            if display is not None:
                stack.enter_context(display)
            elif mode == "lines":
                stack.enter_context(LineDisplay(tracker, stderr))
            result = go()
    except LlmspellError as err:
        if not json_output:
            raise
        error = err
    if not json_output:
        show(result)
        return
    tracker.finish("failed" if error is not None else None)
    click.echo(_json_document(tracker, result, error))
    if error is not None:
        raise error
