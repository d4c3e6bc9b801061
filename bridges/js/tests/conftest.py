"""Helpers for the JavaScript engine tests: run a spell on a real QuickJS context under trio."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import llmspell_tools_core.plugin as tools_core
from llmspell.errors import LlmspellError
from llmspell.runtime import SpellRun
from llmspell.security import Limits, SecurityPolicy
from llmspell.testing import ScriptedProvider, make_kernel
from llmspell_js import JsEngine


@attrs.define
class Outcome:
    result: Any = None
    error: LlmspellError | None = None
    output: list[str] = attrs.field(factory=list)
    events: list[Any] = attrs.field(factory=list)


@attrs.define
class Runner:
    """``await js(source)``: run ``source`` as ``spell.js``; the result, the printed lines and
    the error (when ``expect_error``) come back as an :class:`Outcome`."""

    provider: ScriptedProvider
    kernel: Any = None

    def __attrs_post_init__(self) -> None:
        self.kernel = make_kernel(plugins=[("tools-core", tools_core)], provider=self.provider)

    async def __call__(
        self,
        source: str,
        *,
        args: Any = None,
        limits: Limits | None = None,
        expect_error: bool = False,
        filename: str = "spell.js",
    ) -> Outcome:
        out = Outcome()
        policy = SecurityPolicy(limits=limits or Limits())
        try:
            async with SpellRun.open(self.kernel, name=filename, args=args, policy=policy) as run:
                run.result = await JsEngine(output=out.output.append).run(source, filename, run)
            out.result = run.result
        except LlmspellError as err:
            if not expect_error:
                raise
            out.error = err
            return out
        if expect_error:
            pytest.fail(f"expected an error, got result {out.result!r} (output {out.output})")
        return out


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def js(provider: ScriptedProvider) -> Runner:
    return Runner(provider)
