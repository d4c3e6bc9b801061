"""``text_transform``: a list of operations applied to a text in order (see
:mod:`llmspell_tools_text.transforms`)."""

from __future__ import annotations

from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_text.errors import invalid_arg, too_large
from llmspell_tools_text.limits import (
    MAX_OPERATIONS,
    MAX_OUTPUT_CHARS,
    MAX_SPLITS,
    MAX_TEXT_CHARS,
    MAX_WIDTH,
)
from llmspell_tools_text.schema import obj, text_property
from llmspell_tools_text.threads import run_blocking
from llmspell_tools_text.transforms import OPERATIONS, OperationError, OutputTooLong

NAME = "text_transform"

_OP_LIST = "; ".join(f"{op.name} ({op.summary})" for op in OPERATIONS.values())

_PARAMS: dict[str, Any] = {
    "chars": {
        "type": "string",
        "maxLength": 1000,
        "description": "strip: the characters to remove (default: whitespace).",
    },
    "side": {
        "type": "string",
        "enum": ["both", "left", "right"],
        "default": "both",
        "description": "strip: which end(s) to strip.",
    },
    "separator": {
        "type": "string",
        "maxLength": 100,
        "description": "split: where to split (default: runs of whitespace); slugify: the "
        "word separator (default '-').",
    },
    "max_splits": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_SPLITS,
        "default": 0,
        "description": f"split: most splits (0 = all, up to {MAX_SPLITS:,}).",
    },
    "max_length": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_WIDTH,
        "default": 0,
        "description": "slugify: longest slug (0 = no limit).",
    },
    "length": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_TEXT_CHARS,
        "description": "truncate (required there): the longest result, ellipsis included.",
    },
    "ellipsis": {
        "type": "string",
        "maxLength": 100,
        "default": "…",
        "description": "truncate: appended when the text is cut.",
    },
    "whole_words": {
        "type": "boolean",
        "default": False,
        "description": "truncate: cut at the last space instead of inside a word.",
    },
    "form": {
        "type": "string",
        "enum": ["NFC", "NFD", "NFKC", "NFKD"],
        "default": "NFC",
        "description": "normalize: the Unicode normalization form.",
    },
    "width": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_WIDTH,
        "default": 70,
        "description": "wrap: the longest line.",
    },
    "prefix": {
        "type": "string",
        "maxLength": 100,
        "default": "    ",
        "description": "indent: the prefix of every non-blank line.",
    },
    "old": {
        "type": "string",
        "minLength": 1,
        "maxLength": 10_000,
        "description": "replace: the literal text to replace.",
    },
    "new": {
        "type": "string",
        "maxLength": 10_000,
        "default": "",
        "description": "replace: the replacement.",
    },
    "count": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_TEXT_CHARS,
        "default": 0,
        "description": "replace: most replacements (0 = all).",
    },
}

_NAMES = list(OPERATIONS)

_OPERATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "enum": _NAMES, "description": "An operation without parameters."},
        {
            "type": "object",
            "properties": {
                "op": {"type": "string", "enum": _NAMES, "description": "The operation."},
                **_PARAMS,
            },
            "required": ["op"],
            "additionalProperties": False,
            "description": "An operation with its parameters.",
        },
    ],
}


def _apply(text: str, operations: list[Any]) -> dict[str, Any]:
    result: Any = text
    last = len(operations) - 1
    for index, item in enumerate(operations):
        spec = {"op": item} if isinstance(item, str) else dict(item)
        name = spec.pop("op")
        operation = OPERATIONS[name]
        where = f"operations/{index}"
        extra = sorted(set(spec) - operation.params)
        if extra:
            takes = ", ".join(sorted(operation.params)) or "none"
            raise invalid_arg(
                NAME,
                where,
                f"operation {name!r} takes no parameter {extra[0]!r} (it takes: {takes})",
                operation=name,
            )
        if name == "split":
            if index != last:
                raise invalid_arg(
                    NAME,
                    where,
                    "'split' must be the last operation (it turns the text into a list)",
                    operation=name,
                )
            if spec.get("separator") == "":
                raise invalid_arg(
                    NAME, f"{where}/separator", "the separator of 'split' must not be empty"
                )
        try:
            result = operation.run(result, spec)
        except OperationError as exc:
            argument = f"{where}/{exc.param}" if exc.param else where
            raise invalid_arg(NAME, argument, f"{name}: {exc.problem}", operation=name) from None
        except OutputTooLong as exc:
            raise too_large(
                NAME, f"operation {index} ({name}): {exc}", MAX_OUTPUT_CHARS, operation=name
            ) from None
        if isinstance(result, str) and len(result) > MAX_OUTPUT_CHARS:
            raise too_large(
                NAME,
                f"operation {index} ({name}) made the text {len(result):,} characters long",
                MAX_OUTPUT_CHARS,
                operation=name,
            )
    if isinstance(result, dict):
        return result
    return {"text": result}


@tool(
    name=NAME,
    description="Apply text operations in order and return the result: {text}, or "
    "{parts, count, truncated} when the last operation is 'split' (it may only come last). "
    "Each operation is a name, or an object {op, ...parameters}. Operations: "
    f"{_OP_LIST}. At most {MAX_OPERATIONS} operations; the text and every intermediate "
    f"result at most {MAX_OUTPUT_CHARS:,} characters (else tool_error 'too_large').",
    category="text",
    parameters=obj(
        {
            "text": text_property(
                f"The text to transform (at most {MAX_TEXT_CHARS:,} characters)."
            ),
            "operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_OPERATIONS,
                "items": _OPERATION_SCHEMA,
                "description": "The operations, applied in order, e.g. ['strip', "
                "{'op': 'truncate', 'length': 20}, 'snake_case'].",
            },
        },
        ["text", "operations"],
    ),
    example={
        "text": "  Crème Brûlée Recipe  ",
        "operations": ["strip", "remove_accents", {"op": "slugify", "separator": "_"}],
    },
)
async def text_transform(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    text: str = args["text"]
    operations: list[Any] = args["operations"]
    return await run_blocking(lambda: _apply(text, operations), len(text))


TOOLS = (text_transform,)
