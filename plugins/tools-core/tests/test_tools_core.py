"""Tests of llmspell-tools-core through the real kernel path: entry point -> Kernel -> SpellRun."""

from __future__ import annotations

import math
import operator
from typing import Any

import pytest
import trio
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import Limits, SecurityPolicy
from llmspell_tools_core.calculator import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_LENGTH,
    CalculatorError,
    evaluate,
)

TOOL_NAMES = ["calculator", "echo", "sleep", "unit_convert"]


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    # env={}: load every entry point, whatever LLMSPELL_* the developer has set
    return Kernel.load(env={})


async def call(kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
    async with SpellRun.open(kernel, policy=policy) as run:
        return await run.call_tool(name, args)


async def call_error(
    kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None
) -> LlmspellError:
    with pytest.raises(LlmspellError) as info:
        await call(kernel, name, args, policy)
    return info.value


# --- registration ---------------------------------------------------------------------------


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-core" in kernel.plugins
    info = kernel.plugins["tools-core"]
    assert info.package == "llmspell-tools-core"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-core"]
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-core"
    assert kernel.components("tools-core") == {"tools": TOOL_NAMES}
    kernel.check_pending()  # no misspelt hooks


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-core"})
    assert "tools-core" not in kernel.plugins
    for name in TOOL_NAMES:
        assert name not in kernel.tools


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    spec = tool.spec()
    assert spec["description"]
    assert spec["category"] in ("utility", "math")
    assert spec["permissions"] == []
    assert spec["requires_approval"] is False
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert params["required"]
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
    assert tool.validate(spec["example"]) == spec["example"]


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_tool_example_runs(kernel: Kernel, name: str, autojump_clock: Any) -> None:
    example = kernel.tools.get(name).example
    # no wall-time deadline: the autojump clock would jump to it while unit_convert works in a
    # thread (test_units.py runs that example under the default policy and the real clock)
    unlimited = SecurityPolicy(limits=Limits(wall_seconds=None))
    assert await call(kernel, name, example, unlimited) is not None


# --- echo -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"text": "hello"}, "hello"),
        ({"text": ""}, ""),
        ({"text": "  spaced\nlines\t"}, "  spaced\nlines\t"),
        ({"text": "ünïcødé ✓ 🎉"}, "ünïcødé ✓ 🎉"),
        ({"text": "hi", "repeat": 1}, "hi"),
        ({"text": "hi", "repeat": 3}, "hi hi hi"),
        ({"text": "hi", "repeat": 2.0}, "hi hi"),  # JSON schema: 2.0 is an integer
        ({"text": "x", "repeat": 100}, " ".join(["x"] * 100)),
    ],
)
async def test_echo(kernel: Kernel, args: dict[str, Any], expected: str) -> None:
    assert await call(kernel, "echo", args) == expected


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ({}, ["'text' is a required property"]),
        ({"repeat": 2}, ["'text' is a required property"]),
        ({"text": 5}, ["argument 'text'", "not of type 'string'"]),
        ({"text": None}, ["argument 'text'", "not of type 'string'"]),
        ({"text": "a", "repeat": 0}, ["argument 'repeat'", "less than the minimum of 1"]),
        ({"text": "a", "repeat": 101}, ["argument 'repeat'", "greater than the maximum of 100"]),
        ({"text": "a", "repeat": "2"}, ["argument 'repeat'", "not of type 'integer'"]),
        ({"text": "a", "repeat": 1.5}, ["argument 'repeat'", "not of type 'integer'"]),
        ({"text": "a", "repeat": True}, ["argument 'repeat'", "not of type 'integer'"]),
        ({"text": "a", "txet": "b"}, ["'txet' was unexpected"]),
    ],
)
async def test_echo_invalid_args(
    kernel: Kernel, args: dict[str, Any], fragments: list[str]
) -> None:
    err = await call_error(kernel, "echo", args)
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'echo': ")
    for fragment in fragments:
        assert fragment in err.message


async def test_echo_arguments_must_be_an_object(kernel: Kernel) -> None:
    err = await call_error(kernel, "echo", ["hello"])
    assert err.code == "invalid_args"
    assert "arguments must be an object" in err.message


# --- sleep ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 0.25, 2.5, 10, 3600])
async def test_sleep_waits(kernel: Kernel, seconds: float, autojump_clock: Any) -> None:
    start = trio.current_time()
    unlimited = SecurityPolicy(limits=Limits(wall_seconds=None))
    assert await call(kernel, "sleep", {"seconds": seconds}, unlimited) == {"slept": seconds}
    assert trio.current_time() - start == pytest.approx(seconds, abs=1e-6)


async def test_sleep_is_cancellable(kernel: Kernel, autojump_clock: Any) -> None:
    start = trio.current_time()
    with trio.move_on_after(0.05) as scope:
        await call(kernel, "sleep", {"seconds": 10})
    assert scope.cancelled_caught
    assert trio.current_time() - start == pytest.approx(0.05, abs=1e-6)


async def test_sleep_is_cancelled_with_its_run(kernel: Kernel, autojump_clock: Any) -> None:
    finished: list[Any] = []

    async def sleeper(run: SpellRun) -> None:
        finished.append(await run.call_tool("sleep", {"seconds": 10}))

    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        run.spawn(sleeper, run)
        await trio.sleep(1)
        run.cancel()
    assert finished == []
    assert trio.current_time() - start == pytest.approx(1, abs=1e-6)


async def test_sleep_is_bounded_by_the_run_wall_time(kernel: Kernel, autojump_clock: Any) -> None:
    policy = SecurityPolicy(limits=Limits(wall_seconds=2))
    err = await call_error(kernel, "sleep", {"seconds": 60}, policy)
    assert err.code == "limit"


async def test_sleep_returns_promptly_in_real_time(kernel: Kernel) -> None:
    # the real clock: a 10 s sleep inside a 50 ms window gives up well before 10 s
    start = trio.current_time()
    with trio.move_on_after(0.05):
        await call(kernel, "sleep", {"seconds": 10})
    assert trio.current_time() - start < 5


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ({}, ["'seconds' is a required property"]),
        ({"seconds": -1}, ["argument 'seconds'", "less than the minimum of 0"]),
        ({"seconds": 3600.5}, ["argument 'seconds'", "greater than the maximum of 3600"]),
        ({"seconds": "1"}, ["argument 'seconds'", "not of type 'number'"]),
        ({"seconds": True}, ["argument 'seconds'", "not of type 'number'"]),
        ({"seconds": 1, "ms": 5}, ["'ms' was unexpected"]),
    ],
)
async def test_sleep_invalid_args(
    kernel: Kernel, args: dict[str, Any], fragments: list[str]
) -> None:
    err = await call_error(kernel, "sleep", args)
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'sleep': ")
    for fragment in fragments:
        assert fragment in err.message


# --- calculator: results --------------------------------------------------------------------

CASES: list[tuple[str, int | float]] = [
    ("2+3", 5),
    ("7/2", 3.5),
    ("4/2", 2.0),
    ("7//2", 3),
    ("-7//2", -4),
    ("7 % 3", 1),
    ("-7 % 3", 2),
    ("7.5 % 2", 1.5),
    ("2**10", 1024),
    ("2**-1", 0.5),
    ("2**3**2", 512),
    ("(2**3)**2", 64),
    ("-2**2", -4),
    ("(-2)**2", 4),
    ("+5", 5),
    ("--5", 5),
    ("2 * (3 + 4) ** 2 - 1", 97),
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),
    ("100 / 10 / 5", 2.0),
    ("0.1 + 0.2", 0.1 + 0.2),
    ("1e3", 1000.0),
    ("1_000_000", 1_000_000),
    ("0x1f", 31),
    ("2**100", 2**100),
    ("10**3999", 10**3999),
    ("pi", math.pi),
    ("e", math.e),
    ("tau", math.tau),
    ("2 * pi", 2 * math.pi),
    ("sqrt(16)", 4.0),
    ("sqrt(2)", math.sqrt(2)),
    ("abs(-3)", 3),
    ("abs(-2.5)", 2.5),
    ("round(2.567, 2)", 2.57),
    ("round(2.5)", 2),
    ("round(1234, -2)", 1200),
    ("min(3, 1, 2)", 1),
    ("max(3, 1.5, 2)", 3),
    ("max(7)", 7),
    ("floor(2.7)", 2),
    ("floor(-2.5)", -3),
    ("ceil(2.1)", 3),
    ("log(e)", 1.0),
    ("log(8, 2)", 3.0),
    ("log10(1000)", 3.0),
    ("exp(0)", 1.0),
    ("sin(0)", 0.0),
    ("cos(0)", 1.0),
    ("tan(0)", 0.0),
    ("sqrt(abs(-16)) + max(1, min(5, 9))", 9.0),
    ("  1 +\t2  ", 3),
    ("(1 +\n 2)", 3),
    ("+".join(["1"] * 400), 400),  # a long left-associative chain is one nesting level
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_evaluate(expression: str, expected: int | float) -> None:
    result = evaluate(expression)
    assert result == expected
    assert type(result) is type(expected)


async def test_calculator_tool(kernel: Kernel) -> None:
    assert await call(kernel, "calculator", {"expression": "2+3"}) == 5
    assert await call(kernel, "calculator", {"expression": "7/2"}) == 3.5
    assert await call(kernel, "calculator", {"expression": "sqrt(16) * pi"}) == 4 * math.pi


# --- calculator: refusals -------------------------------------------------------------------

REFUSALS: list[tuple[str, str]] = [
    ("__import__('os')", "function '__import__' is not allowed"),
    ("__import__('os').system('true')", "attribute access is not allowed"),
    ("(1).__class__", "attribute access is not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access is not allowed"),
    ("os", "name 'os' is not allowed; known names: e, pi, tau"),
    ("x + 1", "name 'x' is not allowed"),
    ("open('/etc/passwd')", "function 'open' is not allowed"),
    ("eval('1')", "function 'eval' is not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("(lambda: 1)()", "lambda is not allowed"),
    ("9**9**9", "exponent 387420489 is too large (limit 10000)"),
    ("2**10001", "exponent 10001 is too large"),
    ("2.0**-20000", "exponent -20000 is too large"),
    ("10**5000", f"result has more than {MAX_INT_DIGITS} digits"),
    ("10**3999 * 10", f"result has more than {MAX_INT_DIGITS} digits"),
    ("10.0**400", "result of '**' is too large"),
    ("1e308 * 10", "result is not a finite number"),
    ("1e999", "number is too large for a float"),
    ("exp(1000)", "exp(): number is too large"),
    ("1/0", "division by zero"),
    ("1//0", "division by zero"),
    ("1 % 0", "division by zero"),
    ("1.5 / 0.0", "division by zero"),
    ("0 ** -1", "division by zero"),
    ("sqrt(-1)", "sqrt(): math domain error"),
    ("log(0)", "log(): math domain error"),
    ("(-8) ** 0.5", "complex number"),
    ("1j", "complex numbers are not allowed"),
    ("'a' + 1", "strings are not allowed"),
    ("True + 1", "True is not allowed"),
    ("None", "None is not allowed"),
    ("1 < 2", "comparison is not allowed"),
    ("1 and 2", "'and'/'or' is not allowed"),
    ("1 if 1 else 2", "conditional expression is not allowed"),
    ("[1, 2]", "a list is not allowed"),
    ("1, 2", "a tuple (comma-separated values) is not allowed"),
    ("[x for x in (1,)]", "a comprehension is not allowed"),
    ("(y := 2)", "assignment (:=) is not allowed"),
    ("f'{1}'", "an f-string is not allowed"),
    ("1 << 2", "operator '<<' is not allowed"),
    ("1 & 2", "operator '&' is not allowed"),
    ("~1", "operator '~' is not allowed"),
    ("not 1", "operator 'not' is not allowed"),
    ("sqrt", "function 'sqrt' must be called"),
    ("pi(2)", "'pi' is a number, not a function"),
    ("sqrt(x=4)", "sqrt() takes no keyword arguments"),
    ("sqrt(1, 2)", "sqrt() takes 1 argument, got 2"),
    ("round(1, 2, 3)", "round() takes 1 to 2 arguments, got 3"),
    ("min()", "min() takes at least 1 argument, got 0"),
    ("max(*[1, 2])", "a starred argument is not allowed"),
    ("round(1.5, 0.5)", "round(): the number of digits must be an integer"),
    ("round(5, -10**9)", "round(): the number of digits must be between"),
    ("-" * (MAX_DEPTH + 5) + "1", f"nested too deeply (limit {MAX_DEPTH})"),
    ("2 * (3 +", "syntax error at column 5: '(' was never closed"),
    ("1 +", "syntax error at column 4"),
    ("1 2", "syntax error at column 3"),
    ("1 = 2", "syntax error at column"),
    ("import os", "syntax error at column"),
    ("1; 2", "syntax error at column 2"),
    ("(1 +\n2 3)", "syntax error at"),
    ("", "expression is empty"),
    ("   ", "expression is empty"),
    ("1" + "+1" * MAX_LENGTH, f"characters long; the limit is {MAX_LENGTH}"),
]


@pytest.mark.parametrize(("expression", "fragment"), REFUSALS, ids=[r[0][:30] for r in REFUSALS])
def test_evaluate_refuses(expression: str, fragment: str) -> None:
    with pytest.raises(CalculatorError) as info:
        evaluate(expression)
    assert fragment in info.value.problem


@pytest.mark.parametrize(("expression", "fragment"), REFUSALS, ids=[r[0][:30] for r in REFUSALS])
async def test_calculator_tool_refuses(kernel: Kernel, expression: str, fragment: str) -> None:
    err = await call_error(kernel, "calculator", {"expression": expression})
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'calculator': argument 'expression': ")
    assert fragment in err.message
    assert err.details["tool"] == "calculator"
    assert err.details["argument"] == "expression"
    assert err.hint and "sqrt" in err.hint


def test_evaluate_uses_no_eval() -> None:
    # The evaluator never hands the text to Python: dangerous calls are refused before anything
    # runs, and the module does not call eval/exec/compile.
    import inspect

    import llmspell_tools_core.calculator as module

    source = inspect.getsource(module)
    for banned in ("eval(", "exec(", "compile("):
        assert banned not in source


@pytest.mark.parametrize(
    ("expression", "line", "column"),
    [
        ("2 * (3 +", None, 5),
        ("  1 2", None, 5),
        ("1 +", None, 4),
        ("\n\n  (1,\n  2 +", 3, 3),
        ("x", None, None),  # not a syntax error: a position is still given
    ],
)
def test_error_positions(expression: str, line: int | None, column: int | None) -> None:
    with pytest.raises(CalculatorError) as info:
        evaluate(expression)
    assert info.value.line == line
    if column is not None:
        assert info.value.column == column
        if "syntax error" in info.value.problem:
            assert f"column {column}" in info.value.problem
    else:
        assert info.value.column == 1


async def test_calculator_error_details_carry_the_column(kernel: Kernel) -> None:
    err = await call_error(kernel, "calculator", {"expression": "1 + (2 *"})
    assert err.details["column"] == 5
    assert "column 5" in err.message


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ({}, ["'expression' is a required property"]),
        ({"expression": 5}, ["argument 'expression'", "not of type 'string'"]),
        ({"expression": "1", "precision": 2}, ["'precision' was unexpected"]),
    ],
)
async def test_calculator_invalid_args(
    kernel: Kernel, args: dict[str, Any], fragments: list[str]
) -> None:
    err = await call_error(kernel, "calculator", args)
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'calculator': ")
    for fragment in fragments:
        assert fragment in err.message


def test_evaluate_rejects_non_strings() -> None:
    with pytest.raises(CalculatorError, match="must be a string"):
        evaluate(12)  # type: ignore[arg-type]


# --- calculator: property test against Python's own arithmetic -------------------------------

BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}

leaves = st.integers(-30, 30).map(lambda n: ("num", n))


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(sorted(BINARY)), children, children),
        st.tuples(st.just("pow"), children, st.integers(0, 3)),
        st.tuples(st.just("neg"), children),
    )


trees = st.recursive(leaves, _extend, max_leaves=16)


def render(tree: Any) -> str:
    kind = tree[0]
    if kind == "num":
        return str(tree[1]) if tree[1] >= 0 else f"({tree[1]})"
    if kind == "bin":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    if kind == "pow":
        return f"({render(tree[1])} ** {tree[2]})"
    return f"(-{render(tree[1])})"


def height(tree: Any) -> int:
    if tree[0] == "num":
        return 1
    if tree[0] == "bin":
        return 1 + max(height(tree[2]), height(tree[3]))
    return 1 + height(tree[1])


class Undefined(Exception):
    """The tree has no value within the calculator's domain."""


def compute(tree: Any) -> int | float:
    """Python's own arithmetic on the tree, with the calculator's domain checks."""
    kind = tree[0]
    try:
        if kind == "num":
            value = tree[1]
        elif kind == "bin":
            value = BINARY[tree[1]](compute(tree[2]), compute(tree[3]))
        elif kind == "pow":
            value = compute(tree[1]) ** tree[2]
        else:
            value = -compute(tree[1])
    except (ZeroDivisionError, OverflowError) as exc:
        raise Undefined(str(exc)) from None
    if isinstance(value, int) and abs(value) >= 10**MAX_INT_DIGITS:
        raise Undefined("too many digits")
    if isinstance(value, float) and not math.isfinite(value):
        raise Undefined("not finite")
    return value


@settings(max_examples=300, deadline=None)
@given(trees)
def test_evaluate_matches_python_arithmetic(tree: Any) -> None:
    text = render(tree)
    assume(len(text) <= MAX_LENGTH and height(tree) < MAX_DEPTH // 2)
    try:
        expected = compute(tree)
    except Undefined:
        with pytest.raises(CalculatorError):
            evaluate(text)
        return
    result = evaluate(text)
    assert result == expected
    assert type(result) is type(expected)
