"""The current operation of a task, so that events can be nested into a timeline.

An operation is an agent or workflow run, a workflow step, a model call or a tool call. The
runtime opens one around each (:func:`enter_operation` with the event that started it, then
:func:`exit_operation`); :data:`OPERATION` then holds the ``seq`` of that event. Tasks started
inside an operation inherit it (trio copies the context into new tasks), so every event
published meanwhile belongs to it: a run recorder stores ``OPERATION.get()`` as the event's
``parent`` (see :mod:`llmspell.runlog`).

It is kept only in runs whose ``track_operations`` is true (a run recorder switches it on when
it attaches; anything else that wants parents may too): its two context-variable operations
per operation cost about half a microsecond, and nothing measurable when it is off.

Conventions: an operation's opening event (``agent.started``, ``llm.request`` ...) belongs to the
enclosing operation; what happens inside, and its closing event (``agent.finished``,
``llm.response``, ``tool.failed`` ...), belong to it.
"""

from __future__ import annotations

import contextvars
from typing import Any

from llmspell.events import Event

__all__ = ["OPERATION", "enter_operation", "exit_operation"]

#: The ``seq`` of the event that opened the current operation; ``None`` at the top level of a run.
OPERATION: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "llmspell_operation", default=None
)


def enter_operation(run: Any, opened: Any) -> contextvars.Token[int | None] | None:
    """Make the operation opened by the event ``opened`` (what ``SpellRun.emit`` returned for
    its opening event) the current one, until :func:`exit_operation` with the returned token.
    Nothing happens unless ``run.track_operations`` (a recorder sets it); an event that an
    ``event_emit`` hook skipped (not an :class:`Event`) opens nothing."""
    if run.track_operations and type(opened) is Event:
        return OPERATION.set(opened.seq)
    return None


def exit_operation(token: contextvars.Token[int | None] | None) -> None:
    """End what :func:`enter_operation` started (in the same task)."""
    if token is not None:
        OPERATION.reset(token)
