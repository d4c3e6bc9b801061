"""Declarative conditions: the predicates of conditional and loop workflows written as data, so
that a workflow file (or a spell) can route on state without a function.

A condition is a table with one *subject* and one *operator*::

    {state = "mode", equals = "fast"}               -- state key (scope "global" by default)
    {state = "job", scope = "spell", path = "status", one_of = {"done", "failed"}}
    {input = true, gte = 10}                        -- the value being tested itself
    {input = "review.score", lt = 0.5}              -- a dotted path into that value

or a combination of conditions: ``{all = {...}}``, ``{any = {...}}``, ``{none = {...}}``.

Subjects: ``state`` (a key; ``scope`` and ``path`` optional) or ``input`` (``true`` for the value,
a dotted path string for a field of it). Operators: ``equals``, ``not_equals``, ``one_of`` (a
list), ``exists`` (true/false: present and not null), ``gt``, ``gte``, ``lt``, ``lte`` (numbers;
false when the subject is not a number), ``contains`` (a substring of a string, an item of a list,
a key of a table). A missing subject (absent key or path) fails every operator but
``not_equals`` and ``exists = false``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.specpath import Where, describe
from llmspell.state import parse_scope

if TYPE_CHECKING:
    from llmspell.runtime import SpellRun

SUBJECTS = ("state", "input")
OPERATORS = ("equals", "not_equals", "one_of", "exists", "gt", "gte", "lt", "lte", "contains")
COMBINATORS = ("all", "any", "none")
KEYS = (*SUBJECTS, "scope", "path", *OPERATORS, *COMBINATORS)

_MISSING: Any = object()

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}


@attrs.define(frozen=True)
class Condition:
    """One parsed condition (see the module docstring); build it with :func:`parse_condition`.

    ``op`` is an operator or a combinator; ``state`` is the state key (``None`` for the input);
    ``path`` the field path into the subject; ``parts`` the members of a combinator.
    """

    op: str
    operand: Any = None
    state: str | None = None
    scope: str = "global"
    path: tuple[str, ...] = ()
    parts: tuple[Condition, ...] = ()

    async def test(self, value: Any, run: SpellRun) -> bool:
        """Whether the condition holds for ``value`` (the tested input) in ``run``."""
        if self.op in COMBINATORS:
            results = [await part.test(value, run) for part in self.parts]
            if self.op == "all":
                return all(results)
            if self.op == "any":
                return any(results)
            return not any(results)
        subject = value if self.state is None else await run.state_get(
            self.state, self.scope, _MISSING
        )
        for name in self.path:
            subject = subject.get(name, _MISSING) if isinstance(subject, dict) else _MISSING
        return _holds(self.op, subject, self.operand)


def _same(a: Any, b: Any) -> bool:
    """JSON equality that keeps ``true`` apart from ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _holds(op: str, subject: Any, operand: Any) -> bool:
    if op == "exists":
        return (subject is not _MISSING and subject is not None) == operand
    if op == "not_equals":
        return subject is _MISSING or not _same(subject, operand)
    if subject is _MISSING:
        return False
    if op == "equals":
        return _same(subject, operand)
    if op == "one_of":
        return any(_same(subject, item) for item in operand)
    if op in _ORDER:
        return _number(subject) and bool(_ORDER[op](subject, operand))
    # contains
    if isinstance(subject, str):
        return isinstance(operand, str) and operand in subject
    if isinstance(subject, list):
        return any(_same(item, operand) for item in subject)
    if isinstance(subject, dict):
        return isinstance(operand, str) and operand in subject
    return False


def is_condition(value: Any) -> bool:
    """Whether ``value`` looks like a condition table (as opposed to a function)."""
    return isinstance(value, dict) and "__handle" not in value


def parse_condition(data: Any, where: Where) -> Condition:
    """Parse a condition table; every malformed entry is an error naming its key path."""
    spec = where.options(data, KEYS)
    combinators = [k for k in COMBINATORS if k in spec]
    if combinators:
        name = combinators[0]
        others = sorted(set(spec) - {name})
        if others:
            raise where.key(others[0]).error(f"cannot be combined with {name!r} in one condition")
        items = where.key(name).array(spec[name])
        if not items:
            raise where.key(name).error("needs at least one condition")
        parts = tuple(
            parse_condition(item, where.key(name).item(i)) for i, item in enumerate(items)
        )
        return Condition(name, parts=parts)
    subjects = [k for k in SUBJECTS if k in spec]
    if len(subjects) != 1:
        what = "both 'state' and 'input'" if subjects else "neither 'state' nor 'input'"
        raise where.error(
            f"has {what}; a condition tests exactly one subject (or combines conditions with "
            "'all', 'any' or 'none')"
        )
    operators = [k for k in OPERATORS if k in spec]
    if len(operators) != 1:
        names = ", ".join(OPERATORS)
        got = ", ".join(repr(o) for o in operators) if operators else "none"
        raise where.error(f"needs exactly one operator of {names}; got {got}")
    op = operators[0]
    operand = spec[op]
    at = where.key(op)
    if op == "one_of":
        operand = at.array(operand)
    elif op == "exists":
        operand = at.boolean(operand)
    elif op in _ORDER:
        operand = at.number(operand, minimum=float("-inf"))
    state: str | None = None
    path: tuple[str, ...] = ()
    if "state" in spec:
        state = where.key("state").text(spec["state"])
        if "path" in spec:
            path = tuple(where.key("path").text(spec["path"]).split("."))
    else:
        if "path" in spec:
            raise where.key("path").error("is for state subjects; write input = \"a.b\"")
        subject = spec["input"]
        if isinstance(subject, str) and subject:
            path = tuple(subject.split("."))
        elif subject is not True:
            raise where.key("input").error(
                f"must be true (the value itself) or a dotted path string, got {describe(subject)}"
            )
    scope = "global"
    if "scope" in spec:
        if state is None:
            raise where.key("scope").error("is for state subjects")
        scope = where.key("scope").text(spec["scope"])
        try:
            parse_scope(scope)
        except LlmspellError as err:
            raise where.key("scope").error(err.message) from None
    return Condition(op, operand, state, scope, path)
