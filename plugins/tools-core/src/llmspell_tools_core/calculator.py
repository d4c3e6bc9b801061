"""A safe arithmetic evaluator: parses with :mod:`ast` and walks the tree itself.

Nothing is ever handed to ``eval``, ``exec`` or ``compile``: the expression is parsed into a
syntax tree and only the node types listed below are evaluated; everything else is refused with
a :class:`CalculatorError` that says what is not allowed and where (1-based column).

Allowed:

- numbers: ``int`` and ``float`` literals (``12``, ``3.5``, ``1e-3``, ``0x1f``, ``1_000``);
- operators: ``+ - * / // % **``, unary ``+``/``-``, parentheses;
- names: ``pi``, ``e``, ``tau``;
- functions: ``sqrt abs round min max floor ceil log log10 exp sin cos tan``
  (positional arguments only).

Python's own arithmetic decides the result type: ``2 + 3`` is ``5``, ``7 / 2`` is ``3.5``,
``floor(2.5)`` is ``2``.

Limits (each refused with a clear message, never by running out of time or memory):

- the expression is at most :data:`MAX_LENGTH` characters;
- nesting (operands inside operands, arguments inside calls) is at most :data:`MAX_DEPTH` deep;
  a chain of left-associative operators (``1 + 2 + 3 + ...``) counts as one level;
- an exponent's absolute value is at most :data:`MAX_EXPONENT`;
- integers have at most :data:`MAX_INT_DIGITS` digits (checked *before* a power is computed);
- floats are finite; complex results (``(-8) ** 0.5``) are refused;
- division (and ``//``, ``%``) by zero is refused.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any, NoReturn

import attrs

Number = int | float

#: Longest expression accepted, in characters.
MAX_LENGTH = 1000
#: Deepest nesting of operands and call arguments.
MAX_DEPTH = 50
#: Largest absolute value of an exponent of ``**``.
MAX_EXPONENT = 10_000
#: Most digits an integer (intermediate or final) may have.
MAX_INT_DIGITS = 4000

_INT_LIMIT = 10**MAX_INT_DIGITS
_LOG10_2 = math.log10(2)

#: Names an expression may use, and their values.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


class CalculatorError(ValueError):
    """An expression that cannot be evaluated: ``problem`` says why, ``column`` (1-based, when
    known) and ``line`` (for multi-line input) say where."""

    def __init__(self, problem: str, column: int | None = None, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.column = column
        self.line = line


def _round(x: Number, ndigits: Number | None = None) -> Number:
    if ndigits is None:
        return round(x)
    if not isinstance(ndigits, int):
        raise _Refused("the number of digits must be an integer")
    if abs(ndigits) > MAX_INT_DIGITS:
        raise _Refused(
            f"the number of digits must be between -{MAX_INT_DIGITS} and {MAX_INT_DIGITS}"
        )
    return round(x, ndigits)


def _min(*args: Number) -> Number:
    return min(args)


def _max(*args: Number) -> Number:
    return max(args)


@attrs.define(frozen=True)
class Function:
    """An allowed function: its implementation and how many arguments it takes."""

    fn: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number

    def arity(self) -> str:
        if self.max_args == self.min_args:
            return f"{self.min_args} argument" + ("" if self.min_args == 1 else "s")
        if self.max_args is None:
            return f"at least {self.min_args} argument" + ("" if self.min_args == 1 else "s")
        return f"{self.min_args} to {self.max_args} arguments"


#: Functions an expression may call.
FUNCTIONS: dict[str, Function] = {
    "sqrt": Function(math.sqrt, 1, 1),
    "abs": Function(abs, 1, 1),
    "round": Function(_round, 1, 2),
    "min": Function(_min, 1, None),
    "max": Function(_max, 1, None),
    "floor": Function(math.floor, 1, 1),
    "ceil": Function(math.ceil, 1, 1),
    "log": Function(math.log, 1, 2),
    "log10": Function(math.log10, 1, 1),
    "exp": Function(math.exp, 1, 1),
    "sin": Function(math.sin, 1, 1),
    "cos": Function(math.cos, 1, 1),
    "tan": Function(math.tan, 1, 1),
}

_BINARY_OPS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.FloorDiv: ("//", lambda a, b: a // b),
    ast.Mod: ("%", lambda a, b: a % b),
    ast.Pow: ("**", lambda a, b: a**b),
}

_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}

_NODE_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Slice: "slicing",
    ast.Lambda: "lambda",
    ast.Compare: "comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "a conditional expression",
    ast.NamedExpr: "assignment (:=)",
    ast.List: "a list",
    ast.Tuple: "a tuple (comma-separated values)",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "a starred argument",
}


class _Refused(Exception):
    """Raised inside an allowed function for an argument it refuses (becomes CalculatorError)."""


def evaluate(expression: str) -> Number:
    """Evaluate an arithmetic ``expression`` safely; raise :class:`CalculatorError` if it is not
    allowed, malformed, too large, or fails (division by zero, math domain error)."""
    if not isinstance(expression, str):
        raise CalculatorError(f"expression must be a string, not {type(expression).__name__}")
    if len(expression) > MAX_LENGTH:
        raise CalculatorError(
            f"expression is {len(expression)} characters long; the limit is {MAX_LENGTH}"
        )
    if "\x00" in expression:
        raise CalculatorError("expression contains a NUL character", expression.index("\x00") + 1)
    source = expression.lstrip()
    if not source.strip():
        raise CalculatorError("expression is empty")
    evaluator = _Evaluator(expression, len(expression) - len(source))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        evaluator.syntax_error(exc)
    except (ValueError, RecursionError, MemoryError) as exc:
        raise CalculatorError(f"expression cannot be parsed: {exc}") from None
    return evaluator.run(tree)


class _Evaluator:
    def __init__(self, expression: str, skipped: int) -> None:
        # ``skipped`` leading whitespace characters were removed before parsing
        prefix = expression[:skipped]
        self.expression = expression
        self.skipped_lines = prefix.count("\n")
        self.skipped_columns = len(prefix) - (prefix.rfind("\n") + 1)

    # --- positions ------------------------------------------------------------------------

    def position(self, lineno: int | None, col: int | None) -> tuple[int | None, int | None]:
        """Map a parser position (1-based line, 1-based column) back to the original text."""
        if lineno is None or col is None:
            return None, None
        if lineno == 1:
            col += self.skipped_columns
        return lineno + self.skipped_lines, col

    def fail(self, problem: str, node: ast.AST | None = None) -> NoReturn:
        line, column = None, None
        if isinstance(node, ast.expr):
            line, column = self.position(node.lineno, node.col_offset + 1)
        raise CalculatorError(problem, column, line if line and line > 1 else None)

    def syntax_error(self, exc: SyntaxError) -> NoReturn:
        lineno = exc.lineno or 1
        if exc.offset is not None and exc.offset >= 1:
            line, column = self.position(lineno, exc.offset)
        else:
            # the parser ran off the end of the input: point just past its last character
            lines = self.expression.rstrip().splitlines() or [""]
            line = len(lines)
            column = len(lines[-1]) + 1
        line = line or 1
        where = f"line {line}, column {column}" if line > 1 else f"column {column}"
        raise CalculatorError(
            f"syntax error at {where}: {exc.msg}", column, line if line > 1 else None
        ) from None

    # --- evaluation -----------------------------------------------------------------------

    def run(self, tree: ast.Expression) -> Number:
        try:
            return self.visit(tree.body, 1)
        except RecursionError:
            raise CalculatorError(f"expression is nested too deeply (limit {MAX_DEPTH})") from None

    def visit(self, node: ast.AST, depth: int) -> Number:
        if depth > MAX_DEPTH:
            self.fail(f"expression is nested too deeply (limit {MAX_DEPTH})", node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binop_chain(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        self.fail(f"{self.describe(node)} is not allowed", node)

    def describe(self, node: ast.AST) -> str:
        for kind, text in _NODE_NAMES.items():
            if isinstance(node, kind):
                return text
        return f"syntax {type(node).__name__!r}"

    def check(self, value: Any, node: ast.AST) -> Number:
        """Refuse values outside the calculator's number domain."""
        if isinstance(value, bool):  # never produced by the allowed operations; be strict
            self.fail("booleans are not allowed", node)
        if isinstance(value, int):
            if -_INT_LIMIT < value < _INT_LIMIT:
                return value
            self.fail(f"result has more than {MAX_INT_DIGITS} digits", node)
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            self.fail("result is not a finite number (too large)", node)
        if isinstance(value, complex):
            self.fail("result is a complex number, which is not supported", node)
        self.fail(f"result of type {type(value).__name__} is not a number", node)

    def constant(self, node: ast.Constant) -> Number:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            self.fail(f"{value!r} is not allowed; only numbers are", node)
        if isinstance(value, complex):
            self.fail("complex numbers are not allowed", node)
        if isinstance(value, str | bytes):
            self.fail("strings are not allowed; only numbers are", node)
        if isinstance(value, float) and not math.isfinite(value):
            self.fail("number is too large for a float", node)
        return self.check(value, node)

    def name(self, node: ast.Name) -> Number:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            self.fail(f"function {node.id!r} must be called, e.g. {node.id}(2)", node)
        known = ", ".join(sorted(CONSTANTS))
        self.fail(f"name {node.id!r} is not allowed; known names: {known}", node)

    def unary(self, node: ast.UnaryOp, depth: int) -> Number:
        if isinstance(node.op, ast.USub):
            return self.check(-self.visit(node.operand, depth + 1), node)
        if isinstance(node.op, ast.UAdd):
            return self.check(+self.visit(node.operand, depth + 1), node)
        symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
        self.fail(f"operator {symbol!r} is not allowed", node)

    def binop_chain(self, node: ast.BinOp, depth: int) -> Number:
        # Walk the left spine iteratively, so that ``1 + 2 + ... + 500`` is one nesting level.
        chain: list[ast.BinOp] = []
        current: ast.AST = node
        while isinstance(current, ast.BinOp):
            if type(current.op) not in _BINARY_OPS:
                symbol = _OPERATOR_SYMBOLS.get(type(current.op), type(current.op).__name__)
                self.fail(f"operator {symbol!r} is not allowed", current)
            chain.append(current)
            current = current.left
        value = self.visit(current, depth + 1)
        for binop in reversed(chain):
            right = self.visit(binop.right, depth + 1)
            value = self.binop(binop, value, right)
        return value

    def binop(self, node: ast.BinOp, left: Number, right: Number) -> Number:
        symbol, fn = _BINARY_OPS[type(node.op)]
        if symbol == "**":
            self.check_power(node, left, right)
        try:
            result = fn(left, right)
        except ZeroDivisionError:
            self.fail("division by zero", node)
        except OverflowError:
            self.fail(f"result of {symbol!r} is too large", node)
        return self.check(result, node)

    def check_power(self, node: ast.BinOp, base: Number, exponent: Number) -> None:
        if abs(exponent) > MAX_EXPONENT:
            shown = exponent if abs(exponent) < 10**30 else f"{float(exponent):.3g}"
            self.fail(f"exponent {shown} is too large (limit {MAX_EXPONENT})", node)
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
            # |base| >= 2**(bits-1), so the result has at least this many digits
            bits = abs(base).bit_length()
            if bits > 1 and (bits - 1) * exponent * _LOG10_2 > MAX_INT_DIGITS:
                self.fail(f"result has more than {MAX_INT_DIGITS} digits", node)

    def call(self, node: ast.Call, depth: int) -> Number:
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute | ast.Subscript | ast.Lambda):
                self.fail(f"{self.describe(func)} is not allowed", func)
            self.fail("only the known functions can be called", node)
        name = func.id
        if name not in FUNCTIONS:
            if name in CONSTANTS:
                self.fail(f"{name!r} is a number, not a function", func)
            known = ", ".join(sorted(FUNCTIONS))
            self.fail(f"function {name!r} is not allowed; known functions: {known}", func)
        spec = FUNCTIONS[name]
        if node.keywords:
            self.fail(f"{name}() takes no keyword arguments", node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail("a starred argument is not allowed", arg)
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            self.fail(f"{name}() takes {spec.arity()}, got {count}", node)
        args = [self.visit(arg, depth + 1) for arg in node.args]
        try:
            result = spec.fn(*args)
        except _Refused as exc:
            self.fail(f"{name}(): {exc}", node)
        except ZeroDivisionError:
            self.fail(f"{name}(): division by zero", node)
        except OverflowError:
            self.fail(f"{name}(): number is too large", node)
        except (ValueError, TypeError) as exc:
            self.fail(f"{name}(): {exc}", node)
        return self.check(result, node)
