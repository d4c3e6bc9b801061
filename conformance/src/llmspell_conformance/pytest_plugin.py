"""pytest integration: ``pytest --llmspell-engine=NAME`` runs every conformance case on the
engine as a test (``--llmspell-conformance-tag`` narrows them). Without the option it adds
nothing. A case without a spell for the engine's language fails as missing."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmspell-conformance")
    group.addoption("--llmspell-engine", action="append", default=[],
                    help="run the llmspell conformance suite on this engine (repeatable)")
    group.addoption("--llmspell-conformance-tag", action="append", default=[],
                    help="only conformance cases with this tag")


@pytest.hookimpl(trylast=True)  # after other plugins (pytest-trio) looked at the test functions
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    engines = config.getoption("--llmspell-engine")
    if not engines:
        return
    from llmspell_conformance.cases import load_cases

    cases = load_cases(tags=config.getoption("--llmspell-conformance-tag"))
    parent = session
    for engine in engines:
        for case in cases:
            items.append(ConformanceItem.from_parent(
                parent, name=f"conformance[{engine}:{case.name}]", engine=engine, case=case
            ))


class ConformanceItem(pytest.Item):
    def __init__(self, *, engine: str, case: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.case = case

    def runtest(self) -> None:
        import trio

        from llmspell.kernel import Kernel
        from llmspell_conformance.runner import run_suite

        result = trio.run(run_suite, Kernel.load(), self.engine, [self.case])[0]
        if result.status != "pass":
            raise ConformanceFailure(result)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            r = excinfo.value.result
            return f"{r.status}: " + "\n".join(r.reasons)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.case.path, 0, f"conformance {self.engine}:{self.case.name}"


class ConformanceFailure(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(result.case)
        self.result = result
