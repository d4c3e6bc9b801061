"""The suite's own tools. Each records what it sees into the run's trace, so cases can assert
what the Python side observed (including the cancellation of an in-flight call)."""

from __future__ import annotations

import json
from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import Tool, ToolContext


def _note(ctx: ToolContext, entry: str) -> None:
    if ctx.run.trace is not None:
        ctx.run.trace.append((entry, None))  # type: ignore[arg-type]  # None marks our entries


async def record(args: dict[str, Any], ctx: ToolContext) -> Any:
    value = args.get("value")
    _note(ctx, "record " + json.dumps(value, sort_keys=True, separators=(",", ":")))
    return value


async def wait(args: dict[str, Any], ctx: ToolContext) -> Any:
    label = str(args.get("label", ""))
    _note(ctx, f"wait start {label}".rstrip())
    try:
        await trio.sleep(float(args["seconds"]))
    except trio.Cancelled:
        _note(ctx, f"wait cancelled {label}".rstrip())
        raise
    _note(ctx, f"wait end {label}".rstrip())
    return args.get("value", label or None)


async def fail(args: dict[str, Any], ctx: ToolContext) -> Any:
    raise LlmspellError(
        str(args.get("code") or "tool_error"),
        str(args.get("message") or "the tool failed on purpose"),
        {"tool": "fail"},
    )


def conformance_tools() -> list[Tool]:
    """``record`` (returns and records ``value``), ``wait`` (sleeps ``seconds``, records start,
    end or cancellation under ``label``, returns ``value``), ``fail`` (raises ``code``)."""
    number = {"type": "number", "minimum": 0}
    return [
        Tool(name="record", description="Record a value in the trace and return it.",
             run=record, category="conformance",
             parameters={"type": "object", "properties": {"value": {}}}),
        Tool(name="wait", description="Sleep, recording start, end or cancellation.",
             run=wait, category="conformance",
             parameters={"type": "object", "required": ["seconds"],
                         "properties": {"seconds": number, "label": {"type": "string"},
                                        "value": {}}}),
        Tool(name="fail", description="Fail with the given error code and message.",
             run=fail, category="conformance",
             parameters={"type": "object",
                         "properties": {"code": {"type": "string"},
                                        "message": {"type": "string"}}}),
    ]
