"""The cross-engine conformance suite of llmspell.

A case is a folder holding one spell per language (``spell.lua``, ``spell.js``, ...) and an
expectation file (``expect.toml``); an engine passes a case when its result, error, output,
trace of host operations and timing match. Run it with ``llmspell conformance --engine NAME`` or
``pytest --llmspell-engine=NAME``.
"""

from llmspell_conformance.cases import Case, Expectation, load_cases
from llmspell_conformance.runner import CaseResult, run_case, run_suite

__all__ = ["Case", "CaseResult", "Expectation", "load_cases", "run_case", "run_suite"]
