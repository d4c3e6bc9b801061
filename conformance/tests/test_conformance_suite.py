"""The suite itself: every case passes on the Lua and JavaScript engines with identical traces,
and the runner reports missing spells and mismatches readably."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.kernel import Kernel
from llmspell_conformance.cases import load_case, load_cases
from llmspell_conformance.runner import CaseResult, run_suite

ENGINES = ("lua", "js")


@pytest.fixture(scope="module")
def results() -> dict[str, list[CaseResult]]:
    import trio

    kernel = Kernel.load()
    cases = load_cases()
    return {engine: trio.run(run_suite, kernel, engine, cases) for engine in ENGINES}


@pytest.mark.parametrize("engine", ENGINES)
def test_every_case_passes(results: dict[str, list[CaseResult]], engine: str) -> None:
    failed = {r.case: r.reasons for r in results[engine] if r.status != "pass"}
    assert failed == {}


def test_traces_are_identical_across_engines(results: dict[str, list[CaseResult]]) -> None:
    cases = {c.name: c for c in load_cases()}
    by_engine = {e: {r.case: r.trace for r in results[e]} for e in ENGINES}
    differ = {}
    for name, case in cases.items():
        lua, js = by_engine["lua"][name], by_engine["js"][name]
        if not case.expect.trace_ordered:
            lua, js = sorted(lua), sorted(js)
        if lua != js:
            differ[name] = {"lua": lua, "js": js}
    assert differ == {}


def test_a_case_without_a_spell_for_the_language_is_missing(tmp_path: Path) -> None:
    import trio

    folder = tmp_path / "only_lua"
    folder.mkdir()
    (folder / "expect.toml").write_text('tags = ["values"]\n[expect]\nresult = 1\n')
    (folder / "spell.lua").write_text("return 1\n")
    case = load_case(folder)
    kernel = Kernel.load()
    [lua] = trio.run(run_suite, kernel, "lua", [case])
    [js] = trio.run(run_suite, kernel, "js", [case])
    assert lua.status == "pass"
    assert js.status == "missing" and ".js" in js.reasons[0]


def test_a_mismatch_is_reported_with_a_readable_diff(tmp_path: Path) -> None:
    import trio

    folder = tmp_path / "wrong"
    folder.mkdir()
    (folder / "expect.toml").write_text(
        '[expect]\nresult = 2\ntrace = ["tool.call record", "record 2"]\n'
    )
    (folder / "spell.lua").write_text('return Tool.call("record", {value = 1})\n')
    [r] = trio.run(run_suite, Kernel.load(), "lua", [load_case(folder)])
    assert r.status == "fail"
    assert r.reasons[0] == "result: expected 2, got 1"
    assert "-record 2" in r.reasons[1] and "+record 1" in r.reasons[1]


def test_a_malformed_expectation_names_the_file_and_key(tmp_path: Path) -> None:
    from llmspell.errors import LlmspellError

    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "expect.toml").write_text("[expect]\nresutl = 1\n")
    with pytest.raises(LlmspellError) as info:
        load_case(folder)
    assert "expect.toml" in info.value.message and "'expect.resutl'" in info.value.message
