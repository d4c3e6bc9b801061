"""``template_render``: a Jinja2 template rendered in a guarded, immutable sandbox (see
:mod:`llmspell_tools_text.sandbox`, imported on first use)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_text.errors import failed, invalid_arg, timed_out, too_large
from llmspell_tools_text.limits import (
    DEFAULT_TEMPLATE_TIMEOUT,
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    MAX_TEMPLATE_INT_BITS,
    MAX_TEMPLATE_TIMEOUT,
    MAX_TEMPLATE_VALUE,
)
from llmspell_tools_text.schema import flag, obj, text_property
from llmspell_tools_text.threads import run_blocking

NAME = "template_render"
#: jinja2.sandbox.MAX_RANGE: the most items range() gives in a template.
MAX_RANGE = 100_000


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line of the innermost template frame of ``tb`` (Jinja rewrites
    tracebacks so that template frames carry template line numbers)."""
    from llmspell_tools_text.sandbox import TEMPLATE_FILENAME

    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _at(line: int | None) -> str:
    return f" at line {line}" if line else ""


def _render(args: dict[str, Any]) -> str:
    """Compile and render in the calling thread; every failure becomes an LlmspellError."""
    from jinja2.exceptions import TemplateNotFound, TemplateSyntaxError, UndefinedError

    from llmspell_tools_text import sandbox

    env = sandbox.environment(
        autoescape=bool(args.get("autoescape", False)),
        strict=bool(args.get("strict_undefined", True)),
        trim_blocks=bool(args.get("trim_blocks", False)),
    )
    seconds = float(args.get("timeout_seconds", DEFAULT_TEMPLATE_TIMEOUT))
    max_chars = int(args.get("max_chars", MAX_OUTPUT_CHARS))
    try:
        template = env.from_string(args["template"])
    except TemplateSyntaxError as exc:
        raise invalid_arg(
            NAME, "template", f"syntax error{_at(exc.lineno)}: {exc.message}", line=exc.lineno
        ) from None
    except RecursionError:
        raise invalid_arg(NAME, "template", "the template is nested too deeply") from None
    try:
        return sandbox.render(template, args.get("variables", {}), max_chars, seconds)
    except sandbox.RenderExpired:
        raise timed_out(NAME, "rendering the template ran past its time guard", seconds) from None
    except sandbox.OutputTooLarge:
        raise too_large(NAME, "the rendered output is longer than max_chars", max_chars) from None
    except sandbox.ValueTooLarge as exc:
        line = _template_line(exc.__traceback__)
        raise too_large(NAME, f"{exc.problem}{_at(line)}", exc.limit, line=line) from None
    except sandbox.SecurityError as exc:
        line = _template_line(exc.__traceback__)
        raise LlmspellError(
            "permission_denied",
            f"tool {NAME!r}: the template sandbox refused an operation{_at(line)}: {exc}",
            {"tool": NAME, "argument": "template", "reason": "sandbox", "line": line},
            hint="templates may not touch attributes starting with '_' or internals of "
            "functions, nor modify lists and dicts; pass the data you need in 'variables'",
        ) from None
    except UndefinedError as exc:
        line = _template_line(exc.__traceback__)
        raise invalid_arg(
            NAME,
            "variables",
            f"{exc.message}{_at(line)}",
            line=line,
            hint="pass the value in 'variables', or render with strict_undefined false",
        ) from None
    except TemplateNotFound as exc:
        raise invalid_arg(
            NAME,
            "template",
            f"templates cannot include, import or extend other templates ({exc.name!r})",
        ) from None
    except RecursionError as exc:
        line = _template_line(exc.__traceback__)
        raise failed(NAME, "recursion", f"rendering recursed too deeply{_at(line)}") from None
    except OverflowError as exc:
        line = _template_line(exc.__traceback__)
        if "MAX_RANGE" in str(exc):
            raise too_large(NAME, f"range() is too long{_at(line)}", MAX_RANGE, line=line) from None
        raise failed(NAME, "render", f"rendering failed{_at(line)}: {exc}", line=line) from None
    except Exception as exc:
        line = _template_line(exc.__traceback__)
        raise failed(
            NAME,
            "render",
            f"rendering failed{_at(line)}: {type(exc).__name__}: {exc}",
            line=line,
            type=type(exc).__name__,
        ) from None


@tool(
    name=NAME,
    description="Render a Jinja2 template with the given variables and return the text "
    "(a string). The template runs in Jinja's immutable sandbox: no attributes starting "
    "with '_', no function internals, no changing lists or dicts (any attempt is a "
    "permission_denied error with reason 'sandbox'), no include/import/extend. Missing "
    "variables are errors unless strict_undefined is false. Limits: the output is at most "
    f"max_chars (default and limit {MAX_OUTPUT_CHARS:,}) characters; values built while "
    f"rendering at most {MAX_TEMPLATE_VALUE:,} characters or items and integers at most "
    f"{MAX_TEMPLATE_INT_BITS:,} bits, range() at most {MAX_RANGE:,} items (else tool_error "
    "'too_large'); rendering time at most timeout_seconds (default {DEFAULT_TEMPLATE_TIMEOUT:g}, "
    f"limit {MAX_TEMPLATE_TIMEOUT:g}; else a 'timeout' error). Syntax errors are invalid_args "
    "errors giving the line.",
    category="text",
    parameters=obj(
        {
            "template": text_property(
                "The Jinja2 template, e.g. 'Hello {{ name }}!' (at most "
                f"{MAX_TEMPLATE_CHARS:,} characters). A trailing newline is kept.",
                MAX_TEMPLATE_CHARS,
            ),
            "variables": {
                "type": "object",
                "default": {},
                "description": "The values the template sees, by name (any JSON values).",
            },
            "autoescape": flag("HTML-escape every {{ value }} (for HTML output)."),
            "strict_undefined": flag(
                "Fail on a variable or attribute that does not exist (when false it "
                "renders as an empty string).",
                True,
            ),
            "trim_blocks": flag(
                "Remove the newline after a block tag and the spaces before it "
                "(Jinja's trim_blocks and lstrip_blocks)."
            ),
            "max_chars": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_OUTPUT_CHARS,
                "default": MAX_OUTPUT_CHARS,
                "description": f"Longest output allowed (at most {MAX_OUTPUT_CHARS:,}).",
            },
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TEMPLATE_TIMEOUT,
                "default": DEFAULT_TEMPLATE_TIMEOUT,
                "description": f"Time guard of the rendering, in seconds (default "
                f"{DEFAULT_TEMPLATE_TIMEOUT:g}, at most {MAX_TEMPLATE_TIMEOUT:g}).",
            },
        },
        ["template"],
    ),
    example={
        "template": "{% for item in items %}- {{ item.name }}: {{ item.qty }}\n{% endfor %}",
        "variables": {"items": [{"name": "apples", "qty": 3}, {"name": "pears", "qty": 5}]},
    },
)
async def template_render(args: dict[str, Any], ctx: ToolContext) -> str:
    return await run_blocking(lambda: _render(args), 0, always=True)


TOOLS = (template_render,)
