"""The terminal report of a conformance run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from llmspell_conformance.runner import CaseResult

STYLE = {"pass": "green", "fail": "red", "missing": "yellow"}


def render(engine: str, results: list[CaseResult], *, verbose: bool = False) -> None:
    console = Console()
    table = Table(title=f"conformance: engine {engine}")
    for col in ("case", "result", "seconds", "reason"):
        table.add_column(col, overflow="fold")
    for r in results:
        reason = "\n".join(r.reasons)
        table.add_row(r.case, f"[{STYLE[r.status]}]{r.status}[/]", f"{r.seconds:.3f}", reason)
    console.print(table)
    if verbose:
        for r in results:
            if r.status == "fail":
                console.print(f"[bold]{r.case}[/] trace: {r.trace}", highlight=False)
    counts = {s: sum(1 for r in results if r.status == s) for s in STYLE}
    console.print(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['missing']} missing",
        highlight=False,
    )
