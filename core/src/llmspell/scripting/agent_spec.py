"""``Agent.create{...}`` of the spell API: the agent spec of a script, checked field by field.

Every problem is ``invalid_args`` naming the field (``Agent.create: max_turns must be ...``).
Nested objects may use camelCase keys (``keepLast``), as JavaScript spells write them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from llmspell.agents import LLMAgent, agent_tool
from llmspell.errors import LlmspellError
from llmspell.handoffs import Handoff
from llmspell.history import HistoryPolicy
from llmspell.lifecycle import HookContext
from llmspell.state.scopes import SCOPE_NAME_RE, parse_scope
from llmspell.tools import Tool

if TYPE_CHECKING:
    from llmspell.scripting.session import ScriptSession

#: The fields of an agent spec.
AGENT_FIELDS = frozenset({
    "name", "model", "instructions", "description", "tools", "output_schema", "temperature",
    "max_turns", "parallel_tools", "max_reasks", "tool_choice", "history", "session",
    "state_scope", "guardrails", "handoffs", "max_handoffs",
})
#: The options of ``agent:run(input, opts)``.
RUN_OPTIONS = frozenset({"session"})

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_keys(value: Any) -> Any:
    """An object's keys in snake_case (``keepLast`` -> ``keep_last``); other values as is."""
    if not isinstance(value, dict):
        return value
    return {_CAMEL.sub(r"_\1", k).lower() if isinstance(k, str) else k: v
            for k, v in value.items()}


def fail(field: str, problem: str, where: str = "Agent.create") -> LlmspellError:
    return LlmspellError("invalid_args", f"{where}: {field} {problem}", {"field": field})


def check_fields(spec: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(spec) - known)
    if unknown:
        raise LlmspellError(
            "invalid_args", f"{where}: unknown field(s) {unknown}; known: {sorted(known)}",
            {"fields": unknown},
        )


def _integer(spec: dict[str, Any], field: str, default: int, minimum: int) -> int:
    value = spec.get(field)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(field, f"must be an integer >= {minimum}, got {value!r}")
    return value


def _string(spec: dict[str, Any], field: str) -> str | None:
    value = spec.get(field)
    if value is not None and not isinstance(value, str):
        raise fail(field, f"must be a string, got {type(value).__name__}")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict) and not value:  # an empty Lua table
        return []
    if not isinstance(value, list):
        raise fail(field, f"must be a list, got {type(value).__name__}")
    return value


def session_name(value: Any, field: str = "session", where: str = "Agent.create") -> str | None:
    """A session id: 1-128 characters of ``A-Z a-z 0-9 _ . -``."""
    if value is None:
        return None
    if not isinstance(value, str) or not SCOPE_NAME_RE.fullmatch(value):
        raise fail(field, f"must be 1-128 characters of A-Z a-z 0-9 _ . -, got {value!r}", where)
    return value


def history_policy(value: Any) -> HistoryPolicy | None:
    """``history``: ``false``/``"none"`` (none), ``true``/``"agent"`` (the default policy) or
    ``{max_messages = n, max_tokens = n}``."""
    if value is None or value is False or value == "none":
        return None
    if value is True or value == "agent":
        return HistoryPolicy()
    if not isinstance(value, dict):
        raise fail("history", f"must be true, false, 'agent', 'none' or "
                              f"{{max_messages, max_tokens}}, got {value!r}")
    value = snake_keys(value)
    check_fields(value, frozenset({"max_messages", "max_tokens"}), "Agent.create: history")
    sizes = {}
    for key in ("max_messages", "max_tokens"):
        n = value.get(key, 50 if key == "max_messages" else None)
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise fail(f"history.{key}", f"must be a positive integer, got {n!r}")
        sizes[key] = n
    return HistoryPolicy(**sizes)


def _guardrails(session: ScriptSession, value: Any) -> tuple[list[Any], list[Any]]:
    from llmspell.scripting.hostops import hook_view

    if value is None:
        return [], []
    if not isinstance(value, dict):
        raise fail("guardrails", f"must be {{input = fn, output = fn}}, got {value!r}")
    check_fields(value, frozenset({"input", "output"}), "Agent.create: guardrails")
    out: dict[str, list[Any]] = {"input": [], "output": []}
    for which in out:
        items = value.get(which)
        for i, fn in enumerate(items if isinstance(items, list) else [items]):
            if fn is None:
                continue
            if not callable(fn):
                raise fail(f"guardrails.{which}", f"must be a function (or a list of them), "
                                                  f"got {type(fn).__name__}")

            async def guard(ctx: HookContext, fn: Any = fn) -> Any:
                return await fn(hook_view(ctx))

            guard.__qualname__ = f"guardrails.{which}[{i + 1}]"
            out[which].append(guard)
    return out["input"], out["output"]


def _handoffs(session: ScriptSession, value: Any) -> list[Handoff]:
    from llmspell.scripting.hostops import _runnable

    out = []
    for i, item in enumerate(_list(value, "handoffs")):
        field = f"handoffs[{i + 1}]"
        if isinstance(item, dict) and "__handle" not in item:
            item = snake_keys(item)
            check_fields(
                item, frozenset({"agent", "keep_last", "state_keys", "description"}),
                f"Agent.create: {field}",
            )
            target = item.get("agent")
            keep = item.get("keep_last")
            if isinstance(keep, float) and keep.is_integer():
                keep = int(keep)
            if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int)
                                     or keep < 1):
                raise fail(f"{field}.keep_last", f"must be a positive integer, got {keep!r}")
            keys = _list(item.get("state_keys"), f"{field}.state_keys")
            if not all(isinstance(k, str) and k for k in keys):
                raise fail(f"{field}.state_keys", f"must be a list of key names, got {keys!r}")
            description = item.get("description")
        else:
            target, keep, keys, description = item, None, [], None
        if not isinstance(target, dict) or target.get("kind") not in ("agent", "workflow"):
            raise fail(field, f"must be an agent (or {{agent = a, keep_last, state_keys}}), "
                              f"got {target!r}")
        out.append(Handoff(_runnable(session, target), keep, keys,
                           None if description is None else str(description)))
    return out


def build_agent(session: ScriptSession, spec: dict[str, Any]) -> LLMAgent:
    """The :class:`LLMAgent` of an ``Agent.create`` spec."""
    from llmspell.scripting.hostops import _runnable, find_tool

    check_fields(spec, AGENT_FIELDS, "Agent.create")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise fail("name", f"must be a non-empty string, got {name!r}")
    model: Any = spec.get("model") or session.run.default_model()
    if isinstance(model, dict) and not model:  # an empty Lua table
        model = session.run.default_model()
    tools: list[Tool | str] = []
    for i, item in enumerate(_list(spec.get("tools"), "tools")):
        if isinstance(item, dict) and item.get("kind") in ("agent", "workflow"):
            tools.append(agent_tool(_runnable(session, item)))
        elif isinstance(item, str) and item:
            tools.append(find_tool(session, item))
        else:
            raise fail(f"tools[{i + 1}]", f"must be a tool name or an agent, got {item!r}")
    schema = spec.get("output_schema")
    if schema is not None and not isinstance(schema, dict):
        raise fail("output_schema", f"must be a JSON schema object, got {schema!r}")
    temperature = spec.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
    ):
        raise fail("temperature", f"must be a number, got {temperature!r}")
    parallel = spec.get("parallel_tools", True)
    if not isinstance(parallel, bool):
        raise fail("parallel_tools", f"must be true or false, got {parallel!r}")
    state_scope = _string(spec, "state_scope") or "global"
    try:
        parse_scope(state_scope)
    except LlmspellError as err:
        raise fail("state_scope", err.message.removeprefix("invalid state scope ")) from None
    inputs, outputs = _guardrails(session, spec.get("guardrails"))
    try:
        return LLMAgent(
            name=name,
            model=model,
            instructions=_string(spec, "instructions") or "",
            description=_string(spec, "description") or "",
            tools=tools,
            output_schema=schema,
            temperature=temperature,
            max_turns=_integer(spec, "max_turns", 10, 1),
            parallel_tools=parallel,
            max_reasks=_integer(spec, "max_reasks", 2, 0),
            tool_choice=_string(spec, "tool_choice"),
            history=history_policy(spec.get("history")),
            session=session_name(spec.get("session")),
            state_scope=state_scope,
            input_guardrails=inputs,
            output_guardrails=outputs,
            handoffs=_handoffs(session, spec.get("handoffs")),
            max_handoffs=_integer(spec, "max_handoffs", 10, 0),
        )
    except LlmspellError as err:
        if err.code != "invalid_value":
            raise
        field = err.details.get("field") or err.details.get("kind")
        raise LlmspellError(
            "invalid_args", f"Agent.create: {err.message.removeprefix('agent ')}",
            {**err.details, "field": field},
        ) from None


def merge_guardrails(spec: dict[str, Any], input_fn: Any, output_fn: Any) -> dict[str, Any]:
    """``spec`` with guardrail functions given as separate arguments put into its
    ``guardrails`` (the Lua prelude passes them so, as Lua functions cross only as arguments)."""
    if input_fn is None and output_fn is None:
        return spec
    guardrails = spec.get("guardrails")
    merged = dict(guardrails) if isinstance(guardrails, dict) else {}
    for which, fn in (("input", input_fn), ("output", output_fn)):
        if fn is not None:
            if merged.get(which) is not None:
                raise fail(f"guardrails.{which}", "is given twice")
            merged[which] = fn
    return {**spec, "guardrails": merged}
