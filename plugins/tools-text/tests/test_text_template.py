"""template_render: rendering, options, the sandbox, the size and time guards, errors."""

from __future__ import annotations

import time
from typing import Any

import pytest
import trio

# --- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"template": "Hello {{ name }}!", "variables": {"name": "Ann"}}, "Hello Ann!"),
        ({"template": "Hi\n"}, "Hi\n"),  # the trailing newline is kept
        ({"template": "{{ 2 + 3 }} {{ '%05.1f'|format(3.14159) }}"}, "5 003.1"),
        (
            {"template": "{{ xs|join(', ') }} ({{ xs|length }})", "variables": {"xs": [1, 2, 3]}},
            "1, 2, 3 (3)",
        ),
        (
            {
                "template": "{{ user.name|upper }} {{ user['age'] + 1 }}",
                "variables": {"user": {"name": "bo", "age": 41}},
            },
            "BO 42",
        ),
        ({"template": "{{ '<b>' }}"}, "<b>"),
        ({"template": "{{ '<b>' }}", "autoescape": True}, "&lt;b&gt;"),
        ({"template": "{{ '<b>'|safe }}", "autoescape": True}, "<b>"),
        ({"template": "[{{ missing }}]", "strict_undefined": False}, "[]"),
        (
            {"template": "{% for i in range(3) %}\n  {{ i }}\n{% endfor %}", "trim_blocks": True},
            "  0\n  1\n  2\n",
        ),
        (
            {"template": "{% for i in range(3) %}\n{{ i }}{% endfor %}"},
            "\n0\n1\n2",
        ),
        (
            {
                "template": "{% set ns = namespace(total=0) %}{% for x in xs %}"
                "{% set ns.total = ns.total + x %}{% endfor %}{{ ns.total }}",
                "variables": {"xs": [1, 2, 3, 4]},
            },
            "10",
        ),
        (
            {
                "template": "{% macro li(x) %}<li>{{ x }}</li>{% endmacro %}"
                "{% for x in xs %}{{ li(x) }}{% endfor %}",
                "variables": {"xs": ["a", "b"]},
            },
            "<li>a</li><li>b</li>",
        ),
        ({"template": "{{ 'Total: {:,}'.format(1234567890) }}"}, "Total: 1,234,567,890"),
        ({"template": "{{ x.items()|list }}", "variables": {"x": {"a": 1}}}, "[('a', 1)]"),
    ],
)
async def test_render(call: Any, args: dict[str, Any], expected: str) -> None:
    assert await call("template_render", args) == expected


async def test_render_example(call: Any, kernel: Any) -> None:
    example = kernel.tools.get("template_render").example
    assert await call("template_render", example) == "- apples: 3\n- pears: 5\n"


# --- the sandbox ----------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ ''|attr('__class__') }}",
    "{{ [1]|map(attribute='__class__')|list }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ x['__class__'] }}",
    "{{ dict.mro() }}",
    "{{ range.__globals__ }}",
]


@pytest.mark.parametrize("template", ESCAPES)
@pytest.mark.parametrize("strict", [True, False])
async def test_sandbox_escapes_are_refused(call_error: Any, template: str, strict: bool) -> None:
    err = await call_error(
        "template_render",
        {"template": template, "variables": {"x": {"a": 1}}, "strict_undefined": strict},
    )
    assert err.code == "permission_denied", err.message
    assert err.details["reason"] == "sandbox"
    assert err.details["argument"] == "template"
    assert err.message.startswith("tool 'template_render': the template sandbox refused")
    assert "is unsafe" in err.message
    assert err.hint


@pytest.mark.parametrize(
    "template",
    [
        "{{ xs.append(4) }}",
        "{{ d.update({'b': 2}) }}",
        "{{ d.pop('a') }}",
        "{{ d.clear() }}",
        "{% set _ = xs.extend([1]) %}",
    ],
)
async def test_sandbox_refuses_mutation(call_error: Any, template: str) -> None:
    err = await call_error(
        "template_render", {"template": template, "variables": {"xs": [1], "d": {"a": 1}}}
    )
    assert err.code == "permission_denied"
    assert err.details["reason"] == "sandbox"


@pytest.mark.parametrize(
    "template", ["{% include 'x.html' %}", "{% import 'm.j2' as m %}", "{% extends 'base' %}"]
)
async def test_other_templates_cannot_be_loaded(invalid: Any, template: str) -> None:
    await invalid(
        "template_render", {"template": template}, "template", "cannot include, import or extend"
    )


async def test_lipsum_is_gone(invalid: Any) -> None:
    await invalid(
        "template_render", {"template": "{{ lipsum(1000) }}"}, "variables", "'lipsum' is undefined"
    )


# --- size and time guards -------------------------------------------------------------------

TOO_LARGE = [
    ("{% for i in range(10**9) %}x{% endfor %}", 100_000),
    ("{{ range(200000)|list|length }}", 100_000),
    ("{{ 'a' * 10**9 }}", 1_000_000),
    ("{{ [1] * 10**9 }}", 1_000_000),
    ("{{ 2 ** 100000 }}", 16_384),
    ("{{ 10 ** (10 ** 8) }}", 16_384),
    ("{{ (2 ** 10000) * (2 ** 10000) }}", 16_384),
    ("{{ 'x'|center(10**9) }}", 1_000_000),
    ("{{ 'x'.ljust(10**9) }}", 1_000_000),
    ("{{ 'x'|indent(10**9) }}", 1_000_000),
    ("{{ '%1000000000d'|format(1) }}", 1_000_000),
    ("{{ '%1000000000d' % 1 }}", 1_000_000),
    ("{{ '%*d' % (10**9, 1) }}", 1_000_000),
    ("{{ '{:>1000000000}'.format(1) }}", 1_000_000),
    ("{{ (1).to_bytes(10**9, 'big') }}", 1_000_000),
    ("{{ ('ab' * 1000).replace('', 'x' * 1000) }}", 1_000_000),
    ("{{ ('ab' * 1000)|replace('a', 'x' * 1000) }}", 1_000_000),
    ("{{ ([('x' * 1000000)] * 1000)|join }}", 1_000_000),
    ("{{ ''.join([('x' * 1000000)] * 1000) }}", 1_000_000),
    # doubling through recursion or a namespace: stopped at the first value past the bound
    (
        "{% macro f(s, n) %}{% if n > 0 %}{{ f(s ~ s, n - 1) }}{% else %}{{ s|length }}"
        "{% endif %}{% endmacro %}{{ f('a', 60) }}",
        1_000_000,
    ),
    (
        "{% macro f(s, n) %}{% if n > 0 %}{{ f(s + s, n - 1) }}{% else %}{{ s|length }}"
        "{% endif %}{% endmacro %}{{ f('a', 60) }}",
        1_000_000,
    ),
    (
        "{% set ns = namespace(s='a') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        1_000_000,
    ),
    (
        "{% macro m(s) %}{% for i in range(100000) %}{{ s }}{% endfor %}{% endmacro %}"
        "{% set x = m('abcdefghijklmnop') %}{{ x|length }}",
        1_000_000,
    ),
]


@pytest.mark.parametrize(("template", "limit"), TOO_LARGE)
async def test_values_are_bounded(call_error: Any, template: str, limit: int) -> None:
    start = time.monotonic()
    err = await call_error("template_render", {"template": template})
    assert time.monotonic() - start < 10
    assert err.code == "tool_error", err.message
    assert err.details["reason"] == "too_large"
    assert err.details["limit"] == limit


async def test_output_is_bounded(call: Any, call_error: Any) -> None:
    template = "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}"  # 10 M characters
    err = await call_error("template_render", {"template": template})
    assert err.details == {"tool": "template_render", "reason": "too_large", "limit": 1_000_000}
    small = {"template": "{% for i in range(10) %}ab{% endfor %}", "max_chars": 19}
    err = await call_error("template_render", small)
    assert err.details["limit"] == 19
    assert await call("template_render", {**small, "max_chars": 20}) == "ab" * 10


@pytest.mark.parametrize(
    ("template", "variables"),
    [
        # nested loops that produce nothing and call nothing: stopped all the same
        (
            "{% for i in xs %}{% for j in xs %}{% endfor %}{% endfor %}done",
            {"xs": list(range(10**5))},
        ),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", {}),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% if j == -1 %}x"
            "{% endif %}{% endfor %}{% endfor %}",
            {},
        ),
    ],
)
async def test_rendering_time_is_bounded(call_error: Any, template: str, variables: Any) -> None:
    start = time.monotonic()
    err = await call_error(
        "template_render", {"template": template, "variables": variables, "timeout_seconds": 0.3}
    )
    assert time.monotonic() - start < 10
    assert err.code == "timeout"
    assert err.details == {"tool": "template_render", "reason": "timeout", "timeout_seconds": 0.3}


async def test_the_watchdog_leaves_no_exception_behind(call: Any, call_error: Any) -> None:
    # renders that finish just before (or around) their deadline, then plenty of normal work
    # in the same worker threads: nothing is interrupted later by a stale time guard
    slow = "{% for i in range(100000) %}{% for j in range(30) %}{% endfor %}{% endfor %}ok"
    for _ in range(5):
        try:
            await call("template_render", {"template": slow, "timeout_seconds": 0.05})
        except Exception as exc:
            assert getattr(exc, "code", None) == "timeout"
    for i in range(30):
        out = await call(
            "template_render",
            {"template": "{{ i }}", "variables": {"i": i}, "timeout_seconds": 0.01},
        )
        assert out == str(i)
    await trio.sleep(0.1)
    for _ in range(20):
        assert await trio.to_thread.run_sync(lambda: sum(range(100_000))) == 4999950000


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "line", "fragment"),
    [
        ("{% if %}", 1, "Expected an expression"),
        ("a\nb\n{% for x in y %}\n{{ x }}", 4, "Unexpected end of template"),
        ("line 1\n{{ 1 + }}", 2, "unexpected 'end of print statement'"),
        ("{% endfor %}", 1, "Encountered unknown tag 'endfor'"),
        ("{{ x|nofilter }}", 1, "No filter named 'nofilter'"),
    ],
)
async def test_syntax_errors_name_the_template_and_line(
    invalid: Any, template: str, line: int, fragment: str
) -> None:
    err = await invalid(
        "template_render",
        {"template": template},
        "template",
        f"syntax error at line {line}",
        fragment,
    )
    assert err.details["line"] == line


async def test_undefined_variables(invalid: Any) -> None:
    err = await invalid(
        "template_render",
        {"template": "ok\n{{ user.name }}", "variables": {}},
        "variables",
        "'user' is undefined at line 2",
    )
    assert err.details["line"] == 2
    await invalid(
        "template_render",
        {"template": "{{ user.nickname }}", "variables": {"user": {"name": "x"}}},
        "variables",
        "has no attribute 'nickname'",
    )


async def test_runtime_errors_give_the_line(call_error: Any) -> None:
    err = await call_error("template_render", {"template": "one\ntwo\n{{ 1 / 0 }}"})
    assert err.code == "tool_error"
    assert err.details["reason"] == "render"
    assert err.details["line"] == 3
    assert "at line 3: ZeroDivisionError: division by zero" in err.message


async def test_runaway_recursion(call_error: Any) -> None:
    err = await call_error(
        "template_render", {"template": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"}
    )
    assert err.code == "tool_error"
    assert err.details["reason"] == "recursion"


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"template": "x", "variables": [1]}, "variables", "not of type 'object'"),
        ({"template": "x", "timeout_seconds": 11}, "timeout_seconds", "maximum"),
        ({"template": "x", "max_chars": 0}, "max_chars", "minimum"),
        ({"template": "x" * 100_001}, "template", "is too long"),
        ({"template": "x", "autoescape": "yes"}, "autoescape", "not of type 'boolean'"),
    ],
)
async def test_schema_errors(
    invalid: Any, args: dict[str, Any], argument: str, fragment: str
) -> None:
    await invalid("template_render", args, argument, fragment)


async def test_bounds_do_not_refuse_ordinary_large_work(call: Any) -> None:
    # 10,000 records of 300-character bios: only the joined names count against the bound
    users = [{"name": f"n{i}", "bio": "x" * 300} for i in range(10_000)]
    out = await call(
        "template_render",
        {"template": "{{ users|join(',', attribute='name') }}", "variables": {"users": users}},
    )
    assert out == ",".join(f"n{i}" for i in range(10_000))
    table = await call(
        "template_render",
        {
            "template": "{% for u in users %}{{ loop.index }}. {{ u.name|upper }}\n{% endfor %}",
            "variables": {"users": users},
        },
    )
    assert table.count("\n") == 10_000
    assert table.endswith("10000. N9999\n")
