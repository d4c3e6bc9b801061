"""The conformance suite on lua51: every case runs, and the cases that fail are exactly the ones
bridges/lua51/README.md lists (so the report stays honest)."""

from __future__ import annotations

import re
from pathlib import Path

import trio

from llmspell.kernel import Kernel
from llmspell_conformance.cases import load_cases
from llmspell_conformance.runner import run_suite

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_failures() -> set[str]:
    """The case names listed between the ``failing-cases`` markers of the README."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- failing-cases -->(.*?)<!-- /failing-cases -->", text, re.S)
    assert block, "README.md has no failing-cases block"
    return set(re.findall(r"^- `([a-z0-9_]+)`", block.group(1), re.M))


def test_failing_cases_are_the_documented_ones() -> None:
    kernel = Kernel.load()
    cases = load_cases()
    results = trio.run(run_suite, kernel, "lua51", cases)
    assert len(results) == len(cases)
    assert not [r.case for r in results if r.status == "missing"]
    failing = {r.case for r in results if r.status != "pass"}
    if failing:
        # timing bounds can miss on a loaded machine: a case fails only if it fails twice
        again = trio.run(run_suite, kernel, "lua51", [c for c in cases if c.name in failing])
        failing = {r.case for r in again if r.status != "pass"}
    assert failing == documented_failures(), {
        r.case: r.reasons for r in results if r.case in failing ^ documented_failures()
    }
