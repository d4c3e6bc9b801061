"""Building workflows from specs: the tables of a spell's ``Workflow.*`` calls and of workflow
files share one schema, checked here, so both give the same workflows and the same errors.

A spec source supplies a :class:`Targets` that turns its step entries into step targets (script
functions and handles for spells; agent tables, tool names and nested workflow tables for files).

Schema (every key optional unless marked)::

    sequential   name, description, on_error, steps (required: list of steps)
    parallel     name, description, on_error, fail_fast, max_concurrency,
                 branches (required: list of steps, or a table of named steps)
    conditional  name, description, on_error, branches (list of {when, step}), default (a step)
    loop         name, description, on_error ("fail"|"continue"|"break"), body (required: a
                 step), until, while (predicates), max_iterations (default 10)

    step         one of fn | agent | workflow | tool (with args, input_arg), and
                 name, timeout (s), retry (attempts, or {attempts, backoff, multiplier,
                 max_delay, on}), on_error ("fail"|"continue"), input (sequential steps:
                 "previous"|"original"|{step = name}|function)
    predicate    a function (spells) or a condition table (see :mod:`llmspell.conditions`)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from llmspell.conditions import is_condition, parse_condition
from llmspell.errors import LlmspellError
from llmspell.specpath import Where
from llmspell.tools import Tool
from llmspell.workflows import (
    INPUTS,
    LOOP_ON_ERROR,
    ON_ERROR,
    Conditional,
    Loop,
    Parallel,
    Predicate,
    RetryPolicy,
    Sequential,
    Step,
    Workflow,
)

KINDS = ("sequential", "parallel", "conditional", "loop")
_COMMON = ("name", "description", "on_error")
WORKFLOW_KEYS: dict[str, tuple[str, ...]] = {
    "sequential": (*_COMMON, "steps"),
    "parallel": (*_COMMON, "branches", "max_concurrency", "fail_fast"),
    "conditional": (*_COMMON, "branches", "default"),
    "loop": (*_COMMON, "body", "until", "while", "max_iterations"),
}
STEP_OPTIONS = ("name", "timeout", "retry", "on_error", "input")
TOOL_OPTIONS = ("args", "input_arg")
RETRY_KEYS = ("attempts", "backoff", "multiplier", "max_delay", "on")
BRANCH_KEYS = ("when", "step")


class Targets(Protocol):
    """How one spec source makes step targets."""

    #: the keys naming a step's target in a step table (``fn`` only where functions exist)
    target_keys: tuple[str, ...]
    #: whether a table of named branches is taken in name order (script tables have no order)
    sort_branches: bool

    def bare(self, item: Any, where: Where) -> tuple[str | None, Any] | None:
        """A step given as something other than a step table (a function, a handle):
        ``(name or None, target)``; ``None`` when ``item`` is a step table."""

    def target(self, key: str, value: Any, where: Where) -> tuple[str | None, Any]:
        """The target of a step table's ``fn``/``agent``/``workflow`` entry, with its name."""

    def tool(self, name: Any, where: Where) -> Tool:
        """The tool a ``tool = "name"`` step calls."""

    def function(self, value: Any, where: Where) -> Callable[..., Any]:
        """A function-valued option (a predicate, an ``input`` selector) as ``fn(value, run)``."""


def build_workflow(
    kind: str, spec: Any, where: Where, targets: Targets, *, default_name: str,
    extra_keys: tuple[str, ...] = (),
) -> Workflow:
    """The workflow of ``kind`` described by ``spec``; ``extra_keys`` are allowed (and left to
    the caller). Every malformed entry raises an error naming its key path."""
    if kind not in KINDS:
        from llmspell.errors import did_you_mean

        raise where.key("kind").error(f"is not a workflow kind{did_you_mean(str(kind), KINDS)}")
    data = where.options(spec, (*WORKFLOW_KEYS[kind], *extra_keys))
    name = where.key("name").text(data["name"]) if "name" in data else default_name
    description = str(data.get("description") or "")
    choices = LOOP_ON_ERROR if kind == "loop" else ON_ERROR
    on_error = (
        where.key("on_error").choice(data["on_error"], choices) if "on_error" in data else None
    )
    try:
        if kind == "sequential":
            items = where.key("steps").array(_required(data, "steps", where))
            steps = [
                build_step(item, where.key("steps").item(i), targets, f"step{i + 1}",
                           sequential=True)
                for i, item in enumerate(items)
            ]
            _check_step_refs(steps, where.key("steps"))
            return Sequential(name, steps, description, on_error=on_error or "fail")
        if kind == "parallel":
            branches = _branches(_required(data, "branches", where), where.key("branches"),
                                 targets)
            if "fail_fast" in data:
                fail_fast = where.key("fail_fast").boolean(data["fail_fast"])
                if on_error is not None and (on_error == "fail") != fail_fast:
                    raise where.key("fail_fast").error(f"contradicts on_error = {on_error!r}")
                on_error = on_error or ("fail" if fail_fast else "continue")
            limit = data.get("max_concurrency")
            return Parallel(
                name, branches, description=description, on_error=on_error,
                max_concurrency=None if limit is None
                else where.key("max_concurrency").integer(limit),
            )
        if kind == "conditional":
            at = where.key("branches")
            routes = [
                _route(item, at.item(i), targets, f"step{i + 1}")
                for i, item in enumerate(at.array(data.get("branches") or []))
            ]
            default = data.get("default")
            return Conditional(
                name, routes,
                None if default is None else build_step(
                    default, where.key("default"), targets, f"step{len(routes) + 1}"
                ),
                description, on_error=on_error or "fail",
            )
        body = build_step(_required(data, "body", where), where.key("body"), targets, "step1")
        limit = data.get("max_iterations")
        return Loop(
            name, body,
            until=_predicate(data, "until", where, targets),
            while_=_predicate(data, "while", where, targets),
            max_iterations=10 if limit is None else where.key("max_iterations").integer(limit),
            on_error=on_error or "fail", description=description,
        )
    except LlmspellError as err:
        if "key" in err.details:  # already names where it is
            raise
        raise where.error(err.message) from None


def _check_step_refs(steps: list[Step], where: Where) -> None:
    """Every ``input = {step = name}`` names an earlier step."""
    earlier: list[str] = []
    for i, step in enumerate(steps):
        ref = step.input.get("step") if isinstance(step.input, dict) else None
        if ref is not None and ref not in earlier:
            shown = ", ".join(repr(n) for n in earlier) or "none"
            raise where.item(i).key("input").key("step").error(
                f"names no earlier step: {ref!r}; earlier: {shown}"
            )
        earlier.append(step.name)


def _required(data: dict[str, Any], key: str, where: Where) -> Any:
    if data.get(key) is None:
        raise where.key(key).error("is required")
    return data[key]


def _branches(value: Any, where: Where, targets: Targets) -> list[Step]:
    """A list of steps, or a table of named steps (the key is the branch name)."""
    if isinstance(value, list):
        return [
            build_step(item, where.item(i), targets, f"step{i + 1}")
            for i, item in enumerate(value)
        ]
    table = where.table(value)
    names = sorted(table) if targets.sort_branches else list(table)
    return [build_step(table[n], where.key(str(n)), targets, str(n), name=str(n)) for n in names]


def _route(item: Any, where: Where, targets: Targets, default_name: str) -> tuple[Predicate, Step]:
    data = where.options(item, BRANCH_KEYS)
    when = build_predicate(_required(data, "when", where), where.key("when"), targets)
    return when, build_step(_required(data, "step", where), where.key("step"), targets,
                            default_name)


def _predicate(data: dict[str, Any], key: str, where: Where, targets: Targets) -> Any:
    return None if data.get(key) is None else build_predicate(data[key], where.key(key), targets)


def build_predicate(value: Any, where: Where, targets: Targets) -> Predicate:
    """A condition table, or a function (where the source has functions)."""
    if is_condition(value):
        return parse_condition(value, where)
    return targets.function(value, where)


def build_retry(value: Any, where: Where) -> RetryPolicy:
    """``retry = 3`` (attempts) or ``retry = {attempts, backoff, multiplier, max_delay, on}``."""
    if not isinstance(value, dict):
        return RetryPolicy(attempts=where.integer(value))
    data = where.options(value, RETRY_KEYS)
    on = None
    if "on" in data:
        on = tuple(where.key("on").item(i).text(code)
                   for i, code in enumerate(where.key("on").array(data["on"])))
    return RetryPolicy(
        attempts=where.key("attempts").integer(data.get("attempts", 3)),
        backoff=where.key("backoff").number(data.get("backoff", 0.0)),
        multiplier=where.key("multiplier").number(data.get("multiplier", 2.0), minimum=1.0),
        max_delay=None if data.get("max_delay") is None
        else where.key("max_delay").number(data["max_delay"]),
        on=on,
    )


def build_step(
    item: Any, where: Where, targets: Targets, default_name: str, *,
    sequential: bool = False, name: str | None = None,
) -> Step:
    """One step from a bare target (function, handle) or a step table; ``name`` (a branch
    key) overrides the step's own name."""
    bare = targets.bare(item, where)
    if bare is not None:
        return _make(where, name or bare[0] or default_name, bare[1])
    data = where.options(item, (*STEP_OPTIONS, *targets.target_keys, *TOOL_OPTIONS))
    present = [k for k in targets.target_keys if k in data]
    if len(present) != 1:
        keys = ", ".join(targets.target_keys)
        got = ", ".join(repr(k) for k in present) if present else "none"
        raise where.error(f"needs exactly one of {keys}; got {got}")
    key = present[0]
    for option in TOOL_OPTIONS:
        if option in data and key != "tool":
            raise where.key(option).error("is for tool steps")
    if key == "tool":
        tool = targets.tool(data["tool"], where.key("tool"))
        own: str | None = tool.name
        target: Any = tool_target(
            tool,
            _args(data.get("args"), where.key("args")),
            where.key("input_arg").text(data["input_arg"]) if "input_arg" in data else None,
        )
    else:
        own, target = targets.target(key, data[key], where.key(key))
    if "name" in data and name is None:
        name = where.key("name").text(data["name"])
    options: dict[str, Any] = {}
    if "timeout" in data:
        options["timeout"] = where.key("timeout").number(data["timeout"], strict=True)
    if "retry" in data:
        options["retry"] = build_retry(data["retry"], where.key("retry"))
    if "on_error" in data:
        options["on_error"] = where.key("on_error").choice(data["on_error"], ON_ERROR)
    if "input" in data:
        if not sequential:
            raise where.key("input").error("is for the steps of a sequential workflow")
        options["input"] = _input(data["input"], where.key("input"), targets)
    return _make(where, name or own or default_name, target, **options)


def _make(where: Where, name: str, target: Any, **options: Any) -> Step:
    try:
        return Step(name, target, **options)
    except LlmspellError as err:
        raise where.error(err.message) from None


def _args(value: Any, where: Where) -> dict[str, Any] | None:
    if value is None:
        return None
    if value == []:  # an empty Lua table
        return {}
    return where.table(value)


def _input(value: Any, where: Where, targets: Targets) -> Any:
    if isinstance(value, str):
        return where.choice(value, INPUTS)
    if isinstance(value, dict) and "__handle" not in value:
        data = where.options(value, ("step",))
        return {"step": where.key("step").text(data.get("step"))}
    return targets.function(value, where)


def tool_target(
    tool: Tool, args: dict[str, Any] | None, input_arg: str | None
) -> Callable[..., Any]:
    """A step function calling ``tool``: with ``input_arg``, with ``args`` plus the step input
    under that key; else with ``args`` when given; else with the step input as the arguments."""

    async def call_tool(value: Any, run: Any) -> Any:
        if input_arg is not None:
            arguments: Any = {**(args or {}), input_arg: value}
        else:
            arguments = args if args is not None else value
        return await run.call_tool(tool, arguments)

    return call_tool
