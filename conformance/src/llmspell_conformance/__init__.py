"""The cross-engine conformance suite of llmspell.

A case is a folder holding one spell per language (``spell.lua``, ``spell.js``, ...) and an
expectation file (``expect.toml``); an engine passes a case when its result, error, output,
trace of host operations and timing match. Run it with ``llmspell conformance --engine NAME`` or
``pytest --llmspell-engine=NAME``.
"""

from typing import Any

__all__ = ["Case", "CaseResult", "Expectation", "load_cases", "run_case", "run_suite"]


def __getattr__(name: str) -> Any:
    # imported on use: the plugin entry point imports this package at every llmspell start
    if name in ("Case", "Expectation", "load_cases"):
        from llmspell_conformance import cases

        return getattr(cases, name)
    if name in ("CaseResult", "run_case", "run_suite"):
        from llmspell_conformance import runner

        return getattr(runner, name)
    raise AttributeError(name)
