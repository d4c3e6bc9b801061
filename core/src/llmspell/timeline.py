"""A recorded run's events as a tree of operations: spell → agent → llm call → tool call,
workflow → step (see :mod:`llmspell.operations` for how events know their parent).

:func:`build_timeline` turns the events of :meth:`llmspell.runlog.RunLog.events` into
:class:`Node` objects; :func:`render_text` and :func:`render_tree` show them as indented plain
text or as a rich ``Tree``. Operations are opened by ``agent.started``, ``workflow.started``,
``workflow.step.started``, ``llm.request`` and ``tool.started``, and closed by their
``finished``/``failed`` events (``llm.response`` for a model call); every other event is kept in
``Node.events`` of the operation it happened in.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from rich.tree import Tree

    from llmspell.runlog import EventRecord, RunInfo

__all__ = ["NOTABLE", "Node", "build_timeline", "render_text", "render_tree"]

#: opening topic -> (node kind, data key naming it)
OPENERS: dict[str, tuple[str, str]] = {
    "agent.started": ("agent", "agent"),
    "workflow.started": ("workflow", "workflow"),
    "workflow.step.started": ("step", "step"),
    "llm.request": ("llm", "model"),
    "tool.started": ("tool", "tool"),
}
#: closing topic -> (node kind, status it sets)
CLOSERS: dict[str, tuple[str, str]] = {
    "agent.finished": ("agent", "ok"),
    "agent.failed": ("agent", "failed"),
    "workflow.finished": ("workflow", "ok"),
    "workflow.failed": ("workflow", "failed"),
    "workflow.step.finished": ("step", "ok"),
    "workflow.step.failed": ("step", "failed"),
    "workflow.step.retrying": ("step", "retried"),
    "llm.response": ("llm", "ok"),
    "llm.failed": ("llm", "failed"),
    "tool.finished": ("tool", "ok"),
    "tool.failed": ("tool", "failed"),
}
#: events shown in a timeline even without ``--events`` (besides any carrying an ``error``)
NOTABLE = frozenset({"agent.handoff", "llm.fallback", "replay.diverged", "spell.failed"})


@attrs.define(eq=False)
class Node:
    """One operation of a run (``kind``: ``spell``, ``agent``, ``workflow``, ``step``,
    ``llm`` or ``tool``). ``status`` is ``ok``, ``failed``, ``retried``, ``cancelled`` or
    ``unfinished`` (no closing event was recorded); ``seconds`` is its duration;
    ``input_tokens``/``output_tokens``/``cost`` are set for model calls and the spell."""

    kind: str
    name: str
    seq: int | None = None
    started: float | None = None
    seconds: float | None = None
    status: str = "unfinished"
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    error: dict[str, Any] | None = None
    attempt: int | None = None
    children: list[Node] = attrs.field(factory=list)
    #: the other events that happened in this operation
    events: list[EventRecord] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON data: the fields, ``children`` as nested dicts, ``events`` as event dicts."""
        out: dict[str, Any] = {
            "kind": self.kind, "name": self.name, "seq": self.seq, "status": self.status,
            "seconds": None if self.seconds is None else round(self.seconds, 6),
        }
        if self.input_tokens is not None or self.output_tokens is not None:
            out["input_tokens"] = self.input_tokens or 0
            out["output_tokens"] = self.output_tokens or 0
            out["cost"] = self.cost
        if self.attempt is not None:
            out["attempt"] = self.attempt
        if self.error is not None:
            out["error"] = self.error
        out["children"] = [c.to_dict() for c in self.children]
        out["events"] = [e.to_dict() for e in self.events]
        return out


def build_timeline(info: RunInfo, events: list[EventRecord]) -> Node:
    """The tree of ``info``'s run from its recorded ``events`` (in ``seq`` order). An event
    whose parent is unknown (not recorded) counts as the spell's."""
    root = Node("spell", info.name, started=info.started_at, seconds=info.seconds,
                status=info.status, input_tokens=info.input_tokens,
                output_tokens=info.output_tokens, cost=info.cost, error=info.error)
    nodes: dict[int, Node] = {}
    for event in events:
        parent = nodes.get(event.parent, root) if event.parent is not None else root
        data = event.data if isinstance(event.data, dict) else {}
        opener = OPENERS.get(event.topic)
        if opener is not None:
            kind, key = opener
            name = str(data.get(key, "?"))
            if kind == "step" and data.get("workflow"):
                name = f"{data['workflow']}/{name}"
            node = Node(kind, name, seq=event.seq, started=event.timestamp,
                        attempt=data.get("attempt") if kind == "step" else None)
            parent.children.append(node)
            nodes[event.seq] = node
            continue
        closer = CLOSERS.get(event.topic)
        if closer is not None and parent is not root and parent.kind == closer[0]:
            _close(parent, closer[1], event, data)
            continue
        if event.topic in ("spell.started", "spell.finished") and parent is root:
            continue
        parent.events.append(event)
    return root


def _close(node: Node, status: str, event: EventRecord, data: dict[str, Any]) -> None:
    node.status = status
    if isinstance(data.get("error"), dict):
        node.error = data["error"]
    if node.kind == "llm":
        raw = data.get("usage")
        usage: dict[str, Any] = raw if isinstance(raw, dict) else {}
        node.input_tokens = int(usage.get("input_tokens") or 0)
        node.output_tokens = int(usage.get("output_tokens") or 0)
        node.cost = usage.get("cost")
        if isinstance(data.get("seconds"), (int, float)):
            node.seconds = float(data["seconds"])
            return
    if node.started is not None:
        node.seconds = max(0.0, event.timestamp - node.started)


# --- showing ------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _cost(value: float | None) -> str:
    if value is None:
        return ""
    return f"${value:.6f}".rstrip("0").rstrip(".") if value else "$0"


def _error(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    return f"{error.get('code', 'error')}: {error.get('message', '')}"


def label(node: Node) -> str:
    """One line for ``node``: kind, name, status (when not ok), tokens, cost, duration, error."""
    parts = [f"{node.kind} {node.name}"]
    if node.attempt is not None and node.attempt > 1:
        parts[0] += f" (attempt {node.attempt})"
    if node.status != "ok":
        parts.append(node.status)
    if node.input_tokens is not None or node.output_tokens is not None:
        parts.append(f"{node.input_tokens or 0} in / {node.output_tokens or 0} out tokens")
        if node.cost is not None:
            parts.append(_cost(node.cost))
    if node.seconds is not None:
        parts.append(_seconds(node.seconds))
    if node.error:
        parts.append(_error(node.error))
    return "  ".join(parts)


def event_label(event: EventRecord) -> str:
    """One line for an event that opens no operation: ``· topic {data}`` (data cut to 120)."""
    text = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    if len(text) > 120:
        text = text[:117] + "..."
    return f"· {event.topic} {text}"


def shown_events(node: Node, all_events: bool) -> list[EventRecord]:
    """The events of ``node`` a timeline shows: all, or the notable ones and failures."""
    if all_events:
        return node.events
    return [e for e in node.events
            if e.topic in NOTABLE or (isinstance(e.data, dict) and "error" in e.data)]


def _items(node: Node, all_events: bool) -> list[tuple[int, Any]]:
    """Children and shown events of ``node`` in ``seq`` order."""
    items: list[tuple[int, Any]] = [(c.seq or 0, c) for c in node.children]
    items += [(e.seq, e) for e in shown_events(node, all_events)]
    return sorted(items, key=lambda item: item[0])


def render_text(root: Node, *, all_events: bool = False, indent: str = "  ") -> str:
    """The timeline as plain text, one line per operation, children indented."""
    lines: list[str] = []

    def walk(node: Node, depth: int) -> None:
        lines.append(indent * depth + label(node))
        for _, item in _items(node, all_events):
            if isinstance(item, Node):
                walk(item, depth + 1)
            else:
                lines.append(indent * (depth + 1) + event_label(item))

    walk(root, 0)
    return "\n".join(lines)


_STYLE = {"ok": "green", "failed": "red", "cancelled": "yellow", "retried": "yellow",
          "unfinished": "yellow", "running": "cyan"}


def render_tree(root: Node, *, all_events: bool = False) -> Tree:
    """The timeline as a rich ``Tree`` (status in colour)."""
    from rich.markup import escape
    from rich.tree import Tree

    def styled(node: Node) -> str:
        style = _STYLE.get(node.status, "white")
        rest = escape(label(node)[len(node.kind) + 1:])
        return f"[bold]{escape(node.kind)}[/] [{style}]{rest}[/]"

    tree = Tree(styled(root))

    def walk(node: Node, branch: Tree) -> None:
        for _, item in _items(node, all_events):
            if isinstance(item, Node):
                walk(item, branch.add(styled(item)))
            else:
                branch.add(f"[dim]{escape(event_label(item))}[/]")

    walk(root, tree)
    return tree
