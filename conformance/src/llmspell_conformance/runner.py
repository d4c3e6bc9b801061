"""Running cases on an engine and comparing what it did with what the case expects."""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import Limits, SecurityPolicy
from llmspell.testing import Reply, ScriptedProvider
from llmspell_conformance.cases import Case
from llmspell_conformance.fixtures import conformance_tools

#: Operations left out of traces unless a case asks for them.
UNTRACED = frozenset({"log"})


@attrs.define
class CaseResult:
    """The outcome of one case on one engine: ``status`` is ``pass``, ``fail`` or ``missing``."""

    case: str
    status: str
    seconds: float = 0.0
    reasons: list[str] = attrs.field(factory=list)
    trace: list[str] = attrs.field(factory=list)
    result: Any = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def project(trace: list[tuple[str, list[Any]]], ops: Iterable[str] | None) -> list[str]:
    """Trace entries as strings (``"tool.call record"``), keeping only ``ops`` when given."""
    keep = set(ops) if ops is not None else None
    out = []
    for name, args in trace:
        if args is None:  # an entry recorded by the suite's tools
            head = name.split(" ", 1)[0]
            if keep is None or head in keep:
                out.append(name)
            continue
        if (keep is None and name in UNTRACED) or (keep is not None and name not in keep):
            continue
        first = args[0] if args else None
        if isinstance(first, bool):
            out.append(f"{name} {json.dumps(first)}")
        elif isinstance(first, str | int | float):
            out.append(f"{name} {first}")
        else:
            out.append(name)
    return out


def diff(expected: list[str], actual: list[str]) -> str:
    return "\n".join(
        difflib.unified_diff(expected, actual, "expected", "actual", lineterm="", n=2)
    )


def prepare_kernel(kernel: Kernel) -> Kernel:
    """Add the suite's tools (once) to a kernel that has the engine under test."""
    for tool in conformance_tools():
        kernel.tools.register(tool, replace=True)
    return kernel


async def run_case(kernel: Kernel, engine: Any, case: Case) -> CaseResult:
    """Run ``case`` on ``engine`` (registered in ``kernel``) and judge it."""
    spell = case.spell_for(getattr(engine, "extensions", ()))
    if spell is None:
        exts = ", ".join(getattr(engine, "extensions", ())) or "none"
        return CaseResult(case.name, "missing", reasons=[f"no spell for extensions {exts}"])
    provider = ScriptedProvider(
        [Reply(**r) if isinstance(r, dict) else r for r in case.setup.replies], name="scripted"
    )
    kernel.providers.add("scripted", provider, replace=True)
    policy = SecurityPolicy(limits=Limits(**case.setup.limits))
    trace: list[tuple[str, list[Any]]] = []
    error: LlmspellError | None = None
    result: Any = None
    source = spell.read_text(encoding="utf-8")
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            async with SpellRun.open(
                kernel, name=spell.name, args=dict(case.setup.args), policy=policy
            ) as run:
                run.trace = trace
                run.result = await engine.run(source, spell.name, run)
            result = run.result
        except LlmspellError as err:
            error = err
    seconds = time.perf_counter() - start
    projected = project(trace, case.setup.trace_ops)
    out = CaseResult(case.name, "pass", seconds, trace=projected, result=result,
                     error=error.to_dict() if error else None)
    out.reasons = judge(case, result, error, projected, trace, seconds)
    if out.reasons:
        out.status = "fail"
    return out


def judge(
    case: Case, result: Any, error: LlmspellError | None, projected: list[str],
    trace: list[tuple[str, list[Any]]], seconds: float,
) -> list[str]:
    """Every way the run differs from the expectation, as readable lines."""
    exp = case.expect
    reasons = []
    if exp.error is not None:
        if error is None:
            reasons.append(f"expected error {exp.error!r}, got result {result!r}")
        elif error.code != exp.error:
            reasons.append(f"expected error {exp.error!r}, got {error.code!r}: {error.message}")
    elif error is not None:
        reasons.append(f"unexpected error {error.code!r}: {error.message}")
    elif exp.has_result and not same(result, exp.result):
        reasons.append(f"result: expected {exp.result!r}, got {result!r}")
    if exp.message is not None and (error is None or exp.message not in error.message):
        got = error.message if error else "no error"
        reasons.append(f"error message should contain {exp.message!r}: {got}")
    if exp.line is not None and (error is None or error.details.get("line") != exp.line):
        got = error.details.get("line") if error else None
        reasons.append(f"error line: expected {exp.line}, got {got}")
    if exp.output is not None:
        printed = [" ".join(str(a) for a in args[:1]) for name, args in trace if name == "print"]
        if printed != exp.output:
            reasons.append("output differs:\n" + diff(exp.output, printed))
    if exp.trace is not None:
        if exp.trace_ordered:
            if projected != exp.trace:
                reasons.append("trace differs:\n" + diff(exp.trace, projected))
        elif Counter(projected) != Counter(exp.trace):
            reasons.append("trace differs (unordered):\n" + diff(sorted(exp.trace),
                                                                 sorted(projected)))
    if exp.max_seconds is not None and seconds > exp.max_seconds:
        reasons.append(f"took {seconds:.3f} s, more than {exp.max_seconds} s")
    if exp.min_seconds is not None and seconds < exp.min_seconds:
        reasons.append(f"took {seconds:.3f} s, less than {exp.min_seconds} s")
    return reasons


def same(a: Any, b: Any) -> bool:
    """JSON equality that keeps lists and objects apart (and ``True`` apart from ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | dict) or isinstance(b, list | dict):
        return False
    return bool(a == b)


async def run_suite(kernel: Kernel, engine_name: str, cases: list[Case]) -> list[CaseResult]:
    """Run ``cases`` one after another on the engine named ``engine_name``."""
    prepare_kernel(kernel)
    engine = kernel.engines.get(engine_name)
    return [await run_case(kernel, engine, case) for case in cases]
