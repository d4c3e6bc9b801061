"""The tools of ``llmspell-tools-core``: ``echo``, ``sleep``, ``calculator`` and
``unit_convert`` (in :mod:`llmspell_tools_core.units`).

Each is a :class:`llmspell.tools.Tool` built with the :func:`llmspell.tools.tool` decorator. The
kernel validates arguments against ``parameters`` before a tool runs, so the functions below only
see well-formed arguments; they need no permissions.
"""

from __future__ import annotations

from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import Tool, ToolContext, tool
from llmspell_tools_core.calculator import (
    CONSTANTS,
    FUNCTIONS,
    MAX_EXPONENT,
    MAX_INT_DIGITS,
    MAX_LENGTH,
    CalculatorError,
    evaluate,
)
from llmspell_tools_core.units import unit_convert

#: Longest ``sleep`` accepted, in seconds.
MAX_SLEEP_SECONDS = 3600
#: Most repetitions ``echo`` accepts.
MAX_REPEAT = 100


@tool(
    name="echo",
    description="Return the given text unchanged (optionally repeated, joined with spaces). "
    "Useful for testing tool calls.",
    category="utility",
    parameters={
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "The text to return."},
            "repeat": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_REPEAT,
                "default": 1,
                "description": f"How many times to repeat the text, joined with single spaces "
                f"(1 to {MAX_REPEAT}, default 1).",
            },
        },
        "required": ["text"],
        "additionalProperties": False,
    },
    example={"text": "hello", "repeat": 2},
)
async def echo(args: dict[str, Any], ctx: ToolContext) -> str:
    text: str = args["text"]
    repeat = int(args.get("repeat", 1))  # JSON schema accepts 2.0 as an integer
    return " ".join([text] * repeat)


@tool(
    name="sleep",
    description=f"Wait the given number of seconds (0 to {MAX_SLEEP_SECONDS}), then return "
    '{"slept": seconds}. The wait is cancelled with the run.',
    category="utility",
    parameters={
        "type": "object",
        "properties": {
            "seconds": {
                "type": "number",
                "minimum": 0,
                "maximum": MAX_SLEEP_SECONDS,
                "description": f"How long to wait, in seconds (0 to {MAX_SLEEP_SECONDS}; "
                "fractions allowed).",
            },
        },
        "required": ["seconds"],
        "additionalProperties": False,
    },
    example={"seconds": 0.5},
)
async def sleep(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    seconds = args["seconds"]
    await trio.sleep(seconds)
    return {"slept": seconds}


_FUNCTION_NAMES = ", ".join(sorted(FUNCTIONS))
_CONSTANT_NAMES = ", ".join(sorted(CONSTANTS))
_SYNTAX = (
    f"numbers, + - * / // % ** (exponent at most {MAX_EXPONENT}), unary + and -, parentheses, "
    f"the constants {_CONSTANT_NAMES} and the functions {_FUNCTION_NAMES}"
)


@tool(
    name="calculator",
    description=f"Evaluate an arithmetic expression and return the number. Supports {_SYNTAX}. "
    "Integer arithmetic is exact (2+3 gives 5; 7/2 gives 3.5).",
    category="math",
    parameters={
        "type": "object",
        "properties": {
            "expression": {
                "type": "string",
                "description": f'The arithmetic expression, e.g. "2 * (3 + 4) ** 2" or '
                f'"sqrt(2) * pi" (at most {MAX_LENGTH} characters; integers at most '
                f"{MAX_INT_DIGITS} digits).",
            },
        },
        "required": ["expression"],
        "additionalProperties": False,
    },
    example={"expression": "2 * (3 + 4) ** 2 - sqrt(16)"},
)
async def calculator(args: dict[str, Any], ctx: ToolContext) -> int | float:
    try:
        return evaluate(args["expression"])
    except CalculatorError as exc:
        raise LlmspellError(
            "invalid_args",
            f"tool 'calculator': argument 'expression': {exc.problem}",
            {
                "tool": "calculator",
                "argument": "expression",
                "column": exc.column,
                "line": exc.line,
            },
            hint=f"the calculator accepts {_SYNTAX}",
        ) from None


#: Every tool of this package, in registration order.
TOOLS: tuple[Tool, ...] = (echo, sleep, calculator, unit_convert)
