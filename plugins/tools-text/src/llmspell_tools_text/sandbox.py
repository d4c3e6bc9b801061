"""The guarded Jinja2 environment of ``template_render`` (imported only when a template is
rendered: it imports jinja2).

Jinja's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` already refuses attributes that
start with ``_`` (the classic escapes go through ``__class__``, ``__globals__``, ...), internal
attributes of functions and frames, and methods that mutate lists, dicts and sets; ``range`` is
limited to 100,000 items. On top of it this environment:

- raises :class:`~jinja2.sandbox.SecurityError` at once for an unsafe attribute (Jinja would
  return an undefined value that fails only when used, and renders as "" when lenient);
- bounds every value the template builds: strings, lists and dicts made by ``~``, ``+``, ``*``,
  ``%``, ``str.format``, method calls, filters, macros and ``{% set %}`` blocks may hold at most
  :data:`MAX_TEMPLATE_VALUE` characters/items, integers made by ``*`` and ``**`` at most
  :data:`MAX_TEMPLATE_INT_BITS` bits; the growth of padding, ``replace``, ``join`` and format
  widths is checked *before* the value is built, so no single step allocates gigabytes;
- drops the ``lipsum`` global and refuses ``include``/``import``/``extend`` (there are no other
  templates);
- renders under a deadline: a timer raises :class:`RenderExpired` in the rendering thread once
  the time is up (see :class:`_Watchdog`), so nested loops that produce nothing are stopped too.
"""

from __future__ import annotations

import ctypes
import functools
import re
import string
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import StrictUndefined, Undefined
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import TemplateNotFound
from jinja2.filters import make_attrgetter
from jinja2.loaders import FunctionLoader
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from llmspell_tools_text.limits import MAX_TEMPLATE_INT_BITS, MAX_TEMPLATE_VALUE

__all__ = [
    "OutputTooLarge",
    "RenderExpired",
    "SecurityError",
    "ValueTooLarge",
    "environment",
    "render",
]

#: The file name Jinja gives compiled templates (used to find template frames and lines).
TEMPLATE_FILENAME = "<template>"


class ValueTooLarge(Exception):
    """The template tried to build a value past the bounds."""

    def __init__(self, problem: str, limit: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.limit = limit


class OutputTooLarge(Exception):
    """The rendered output passed ``max_chars``."""


class RenderExpired(BaseException):
    """The render deadline passed. A :class:`BaseException`, so that no ``except Exception``
    inside Jinja can swallow it."""


def _too_long(what: str, size: int) -> ValueTooLarge:
    return ValueTooLarge(
        f"the template builds {what} of {size:,} characters or items", MAX_TEMPLATE_VALUE
    )


def check_size(value: Any) -> Any:
    """``value`` unchanged if within the bounds; else :class:`ValueTooLarge`."""
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        if len(value) > MAX_TEMPLATE_VALUE:
            raise _too_long(f"a {type(value).__name__}", len(value))
    elif isinstance(value, int) and value.bit_length() > MAX_TEMPLATE_INT_BITS:
        raise ValueTooLarge(
            f"the template builds an integer of {value.bit_length():,} bits",
            MAX_TEMPLATE_INT_BITS,
        )
    return value


def _check_count(what: str, size: Any) -> None:
    if isinstance(size, int) and size > MAX_TEMPLATE_VALUE:
        raise _too_long(what, size)


def _check_int(value: Any, what: str) -> None:
    if isinstance(value, int) and abs(value) > MAX_TEMPLATE_VALUE:
        raise ValueTooLarge(f"{what} {value:,} is too large", MAX_TEMPLATE_VALUE)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_NUMBER = re.compile(r"\d+")


def _ints_in(values: Any) -> Iterable[int]:
    if isinstance(values, Mapping):
        values = values.values()
    elif not isinstance(values, tuple | list):
        values = (values,)
    return (v for v in values if isinstance(v, int))


def check_percent_format(fmt: Any, values: Any) -> None:
    """Refuse a ``%``-format whose widths or precisions would build a huge string."""
    if not isinstance(fmt, str):
        return
    for spec in _PERCENT_SPEC.finditer(fmt):
        for number in spec.groups():
            if number == "*":
                for value in _ints_in(values):
                    _check_int(value, "a format width")
            elif number is not None:
                _check_int(int(number), "a format width")


def check_brace_format(fmt: str, args: Any, kwargs: Any) -> None:
    """Refuse a ``str.format`` template whose widths or precisions would build a huge string."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # malformed: str.format itself will say so
    for _literal, _field, spec, _conversion in fields:
        if not spec:
            continue
        for number in _NUMBER.findall(spec):
            _check_int(int(number), "a format width")
        if "{" in spec:  # nested fields take widths from the arguments
            for value in [*_ints_in(args), *_ints_in(kwargs)]:
                _check_int(value, "a format width")


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


def _replace_size(s: Any, old: Any, new: Any, count: Any) -> int | None:
    if not isinstance(s, str | bytes) or not isinstance(old, str | bytes):
        return None
    if not isinstance(new, str | bytes):
        return None
    hits = s.count(old) if old else len(s) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * (len(new) - len(old))


def _join_size(sep: Any, items: list[Any]) -> int:
    total = sum(len(x) for x in items if isinstance(x, str | bytes))
    return total + (len(sep) if isinstance(sep, str | bytes) else 0) * max(len(items) - 1, 0)


def _precheck_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Check a call of a string or integer method that can build a huge value; return the
    arguments to call with (``join``'s iterable is materialised to be measured)."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, str | bytes):
        if name in ("center", "ljust", "rjust", "zfill"):
            _check_count(f"a padded string ({name})", _arg(args, kwargs, 0, "width"))
        elif name == "expandtabs":
            tabsize = _arg(args, kwargs, 0, "tabsize")
            if isinstance(tabsize, int):
                _check_count("a string (expandtabs)", len(owner) + owner.count("\t") * tabsize)  # type: ignore[arg-type]
        elif name == "replace":
            size = _replace_size(
                owner,
                _arg(args, kwargs, 0, "old"),
                _arg(args, kwargs, 1, "new"),
                _arg(args, kwargs, 2, "count"),
            )
            _check_count("a string (replace)", size)
        elif name == "join" and args:
            items = list(args[0])
            _check_count("a string (join)", _join_size(owner, items))
            args = (items, *args[1:])
    elif isinstance(owner, int) and name == "to_bytes":
        _check_count("bytes (to_bytes)", _arg(args, kwargs, 0, "length"))
    return args


def _precheck_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int):
                _check_count("a repeated sequence", len(seq) * times)
        if isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() + right.bit_length()
            if bits > MAX_TEMPLATE_INT_BITS:
                raise ValueTooLarge(
                    f"the template builds an integer of about {bits:,} bits",
                    MAX_TEMPLATE_INT_BITS,
                )
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            bits = left.bit_length() * right
            if bits > MAX_TEMPLATE_INT_BITS:
                raise ValueTooLarge(
                    f"the template builds an integer of about {bits:,} bits",
                    MAX_TEMPLATE_INT_BITS,
                )
    elif operator == "%":
        check_percent_format(left, right)


def _checked_concat(parts: Iterable[Any]) -> str:
    """``environment.concat``: joins the output of macros, blocks and ``{% set %}`` blocks."""
    items = list(parts)
    _check_count("a string", _join_size("", items))
    return "".join(items)


# --- filters --------------------------------------------------------------------------------


def _filter_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    _check_count("a padded string (center)", width)


def _filter_indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    if isinstance(width, int):
        _check_int(width, "an indent width")
    elif isinstance(width, str):
        lines = str(value).count("\n") + 1
        _check_count("an indented string", len(str(value)) + lines * len(width))


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> None:
    check_percent_format(value, kwargs or args)


def _filter_replace(value: Any, old: Any = None, new: Any = None, count: Any = None) -> None:
    _check_count("a string (replace)", _replace_size(str(value), old, new, count))


def _filter_wordwrap(
    value: Any, width: Any = 79, *_: Any, wrapstring: Any = None, **__: Any
) -> None:
    if isinstance(width, int) and width > 0 and isinstance(wrapstring, str):
        lines = len(str(value)) // width + str(value).count("\n") + 1
        _check_count("a wrapped string", len(str(value)) + lines * len(wrapstring))


def _filter_slice(value: Any, slices: Any = 1, *_: Any, **__: Any) -> None:
    _check_count("slices", slices)


def _filter_batch(value: Any, linecount: Any = 1, *_: Any, **__: Any) -> None:
    _check_count("a batch", linecount)


#: Checks run before the filter of the same name, with the filter's arguments after the value.
_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _filter_center,
    "indent": _filter_indent,
    "format": _filter_format,
    "replace": _filter_replace,
    "wordwrap": _filter_wordwrap,
    "slice": _filter_slice,
    "batch": _filter_batch,
}


def _guard_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its pre-check (if any) and a size check of its result."""
    check = _FILTER_CHECKS.get(name)
    passes = 1 if hasattr(fn, "jinja_pass_arg") else 0

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if name == "join" and len(args) > passes:
            items = list(args[passes])
            args = (*args[:passes], items, *args[passes + 1 :])
            sep = _arg(args[passes + 1 :], kwargs, 0, "d")
            attribute = _arg(args[passes + 1 :], kwargs, 1, "attribute")
            if attribute is not None and passes:
                getter = make_attrgetter(args[0].environment, attribute)
                items = [getter(i) for i in items]
            _check_count("a string (join)", _join_size(sep or "", [str(i) for i in items]))
        elif check is not None:
            check(*args[passes:], **kwargs)
        return check_size(fn(*args, **kwargs))

    return guarded


# --- the environment ------------------------------------------------------------------------


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` so that its result is size-checked."""

    def visit_Concat(self, node: Any, frame: Any) -> None:
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")


def _no_templates(name: str) -> None:
    raise TemplateNotFound(name)


class GuardedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox of ``template_render`` (see the module docstring)."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(loader=FunctionLoader(_no_templates), **options)
        self.globals.pop("lipsum", None)
        self.filters = {name: _guard_filter(name, fn) for name, fn in self.filters.items()}
        self.concat = _checked_concat  # type: ignore[method-assign]

    @staticmethod
    def checked(value: Any) -> Any:
        return check_size(value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _precheck_binop(operator, left, right)
        return check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        args = _precheck_method(__obj, args, kwargs)
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt = value.__self__
        is_map = value.__name__ == "format_map"

        @functools.wraps(wrapper)
        def guarded(*args: Any, **kwargs: Any) -> str:
            if is_map:
                check_brace_format(fmt, (), args[0] if args else {})
            else:
                check_brace_format(fmt, args, kwargs)
            return str(check_size(wrapper(*args, **kwargs)))

        return guarded


@functools.lru_cache(maxsize=16)
def environment(*, autoescape: bool, strict: bool, trim_blocks: bool) -> GuardedEnvironment:
    """The (shared, cached) environment for these options."""
    return GuardedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=trim_blocks,
        lstrip_blocks=trim_blocks,
        keep_trailing_newline=True,
    )


class _Watchdog:
    """Raises :class:`RenderExpired` in the rendering thread once ``seconds`` have passed.

    A timer thread calls ``PyThreadState_SetAsyncExc`` for the rendering thread; CPython raises
    the exception there at its next bytecode boundary, so even a loop that calls nothing is
    stopped, at no cost while rendering. :meth:`stop` (under the same lock as the firing)
    makes sure that no exception is left pending once rendering is over.
    """

    def __init__(self, seconds: float) -> None:
        self.thread_id = threading.get_ident()
        self.lock = threading.Lock()
        self.done = False
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _set_async_exc(self, exc: Any) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), exc)

    def _fire(self) -> None:
        with self.lock:
            if self.done or self.fired:
                return
            self.fired = True
            self._set_async_exc(ctypes.py_object(RenderExpired))

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.cancel()
        with self.lock:
            self.done = True
            if self.fired:
                self._set_async_exc(None)  # clear the exception if it is still pending


def render(template: Any, variables: Mapping[str, Any], max_chars: int, seconds: float) -> str:
    """Render compiled ``template`` with ``variables`` in the calling thread: at most
    ``max_chars`` characters (:class:`OutputTooLarge`) within ``seconds``
    (:class:`RenderExpired`)."""
    watchdog = _Watchdog(seconds)
    watchdog.start()
    try:
        out: list[str] = []
        size = 0
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > max_chars:
                raise OutputTooLarge
            out.append(str(chunk))
        return "".join(out)
    finally:
        watchdog.stop()
