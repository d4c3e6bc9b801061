"""``json_query`` (JMESPath) and ``json_validate`` (JSON Schema).

Both take the JSON value either as ``data`` (any JSON value) or as ``json`` (JSON text). jmespath
and jsonschema are imported inside the functions that use them (start-up stays cheap).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_data.support import (
    MAX_OUTPUT_CHARS,
    MAX_TEXT_CHARS,
    check_output,
    check_value,
    invalid,
    pointer,
    run_blocking,
    shorten,
    value_or_text,
)

#: Longest JMESPath expression accepted, in characters.
MAX_EXPRESSION_CHARS = 10_000
#: Most validation errors ``json_validate`` reports (``max_errors`` may lower it).
MAX_ERRORS = 1000
#: Default of ``max_errors``.
DEFAULT_MAX_ERRORS = 100
#: Longest message of one validation error (jsonschema quotes the offending value).
MAX_MESSAGE_CHARS = 500

_DATA_PROPERTIES: dict[str, Any] = {
    "data": {
        "description": "The JSON value to work on (any JSON: object, array, string, number, "
        "boolean or null). Give this or 'json'.",
    },
    "json": {
        "type": "string",
        "maxLength": MAX_TEXT_CHARS,
        "description": f"The JSON value as JSON text (at most {MAX_TEXT_CHARS} characters). "
        "Give this or 'data'.",
    },
}


# --- json_query -----------------------------------------------------------------------------


def _query(args: dict[str, Any]) -> dict[str, Any]:
    import jmespath
    from jmespath import exceptions as jx

    expression: str = args["expression"]
    data = value_or_text(args, "json_query")
    if not expression.strip():
        raise invalid("json_query", "expression", "the expression is empty")
    try:
        compiled = jmespath.compile(expression)
    except jx.ParseError as exc:
        position = exc.lex_position if isinstance(exc.lex_position, int) else None
        problem = getattr(exc, "message", None) or exc.msg
        token = f" {exc.token_value!r}" if exc.token_value not in (None, "") else ""
        where = f" at position {position}" if position is not None else ""
        caret = f"{expression}\n{' ' * position}^" if position is not None else expression
        raise invalid(
            "json_query", "expression",
            f"JMESPath syntax error{where}: {problem}{token}",
            hint=f"position counts characters from 0:\n{caret}",
            position=position,
        ) from None
    except RecursionError:
        raise invalid("json_query", "expression", "the expression is nested too deeply") from None
    try:
        result = compiled.search(data)
    except jx.JMESPathError as exc:  # type errors, unknown functions, wrong arity
        raise invalid("json_query", "expression", str(exc)) from None
    try:
        text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    except ValueError:  # to_number('1e999'), sum() overflowing ...
        raise invalid(
            "json_query", "expression", "the result holds a number JSON cannot hold (NaN or "
            "infinity)"
        ) from None
    check_output("json_query", text)
    return {"result": result}


@tool(
    name="json_query",
    description="Evaluate a JMESPath expression (https://jmespath.org) over a JSON value and "
    'return {"result": value} (null when nothing matches). Examples: "people[?age > `30`].name", '
    '"length(items)", "sort_by(items, &price)[0]". The value comes as \'data\' (any JSON) or '
    f"'json' (JSON text, at most {MAX_TEXT_CHARS} characters); the result is at most "
    f"{MAX_OUTPUT_CHARS} characters of JSON. A malformed expression is reported with its "
    "position.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "expression": {
                "type": "string",
                "maxLength": MAX_EXPRESSION_CHARS,
                "description": "The JMESPath expression, e.g. \"people[?age > `30`].name\" "
                "(literals go in backticks).",
            },
            **_DATA_PROPERTIES,
        },
        "required": ["expression"],
        "additionalProperties": False,
    },
    example={
        "expression": "people[?age > `30`].name",
        "data": {"people": [{"name": "Ann", "age": 34}, {"name": "Bob", "age": 25}]},
    },
)
async def json_query(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_query, args))


# --- json_validate --------------------------------------------------------------------------

_DRAFTS = {
    "Draft202012Validator": "2020-12",
    "Draft201909Validator": "2019-09",
    "Draft7Validator": "7",
    "Draft6Validator": "6",
    "Draft4Validator": "4",
    "Draft3Validator": "3",
}


def _refuse_retrieval(uri: str) -> Any:
    """The ``retrieve`` of the validator's registry: remote references are never fetched."""
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class


def _unresolvable(exc: Any) -> Exception:
    """``invalid_args`` naming ``schema`` for a ``$ref`` that cannot be resolved."""
    from referencing.exceptions import NoSuchAnchor, PointerToNowhere

    ref = str(getattr(exc, "ref", "") or exc)
    if isinstance(exc, PointerToNowhere):
        problem = f"reference '#{ref}' points to nothing in the schema"
    elif isinstance(exc, NoSuchAnchor):
        problem = f"anchor {exc.anchor!r} is not defined in the schema"
    else:
        problem = (
            f"reference {ref!r} cannot be resolved: only references inside the schema "
            '("#/$defs/...", or an "$id" it declares) are followed; remote schemas are never '
            "fetched"
        )
    return invalid("json_validate", "schema", problem, ref=ref)


def _validate(args: dict[str, Any]) -> dict[str, Any]:
    import referencing
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for
    from referencing.exceptions import Unresolvable

    schema = args["schema"]
    check_value(schema, "json_validate", "schema")
    instance = value_or_text(args, "json_validate")
    max_errors: int = int(args.get("max_errors", DEFAULT_MAX_ERRORS))

    if isinstance(schema, dict) and "$schema" in schema:
        declared = schema["$schema"]
        cls = validator_for(schema, default=None) if isinstance(declared, str) else None
        if cls is None:
            raise invalid(
                "json_validate", "schema",
                f"unknown $schema {declared!r}; known drafts: 2020-12 (the default), 2019-09, "
                "7, 6, 4, 3",
                hint='e.g. "https://json-schema.org/draft/2020-12/schema"',
            )
    else:
        cls = Draft202012Validator
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = pointer(exc.absolute_path)
        raise invalid(
            "json_validate", "schema",
            f"not a valid JSON schema{' at ' + where if where else ''}: "
            f"{shorten(exc.message, MAX_MESSAGE_CHARS)}",
            path=where, rule=str(exc.validator),
        ) from None
    registry: Any = referencing.Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]
    format_checker = cls.FORMAT_CHECKER if args.get("check_formats", False) else None
    validator = cls(schema, registry=registry, format_checker=format_checker)

    errors: list[dict[str, Any]] = []
    truncated = False
    try:
        for error in validator.iter_errors(instance):
            if len(errors) == max_errors:
                truncated = True
                break
            errors.append(
                {
                    "path": pointer(error.absolute_path),
                    "message": shorten(error.message, MAX_MESSAGE_CHARS),
                    "rule": "false" if error.validator is None else str(error.validator),
                    "schema_path": pointer(error.absolute_schema_path),
                }
            )
    except Unresolvable as exc:
        raise _unresolvable(getattr(exc, "_wrapped", exc)) from None
    except RecursionError:
        raise invalid(
            "json_validate", "schema", "the schema refers to itself without end"
        ) from None
    return {
        "valid": not errors,
        "errors": errors,
        "truncated": truncated,
        "draft": _DRAFTS.get(cls.__name__, cls.__name__),
    }


@tool(
    name="json_validate",
    description="Validate a JSON value against a JSON Schema and return "
    '{"valid": bool, "errors": [{"path", "message", "rule", "schema_path"}], "truncated": bool, '
    '"draft": "2020-12"}, listing every error (path and schema_path are JSON pointers, rule is '
    "the failing keyword), at most max_errors of them (default "
    f"{DEFAULT_MAX_ERRORS}, limit {MAX_ERRORS}). Draft 2020-12 unless the schema's $schema "
    "names another (2019-09, 7, 6, 4, 3). Only references inside the schema are followed; "
    "remote $ref are refused, never fetched. 'format' is an annotation unless check_formats is "
    "true.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "schema": {
                "type": ["object", "boolean"],
                "description": "The JSON Schema (an object, or true/false).",
            },
            **_DATA_PROPERTIES,
            "max_errors": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ERRORS,
                "default": DEFAULT_MAX_ERRORS,
                "description": f"Most errors to report (1 to {MAX_ERRORS}, default "
                f"{DEFAULT_MAX_ERRORS}); 'truncated' tells whether there were more.",
            },
            "check_formats": {
                "type": "boolean",
                "default": False,
                "description": "Also check 'format' (email, date, ipv4, uri ...) where the "
                "checker is available (default false: format is only an annotation).",
            },
        },
        "required": ["schema"],
        "additionalProperties": False,
    },
    example={
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
            "required": ["name"],
        },
        "data": {"name": "Ann", "age": -1},
    },
)
async def json_validate(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_validate, args))

