"""Fixtures of the llmspell-tools-text tests: the kernel (plugins loaded through their entry
points) and helpers that call a tool through the real path, ``SpellRun.call_tool``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy

Call = Callable[..., Awaitable[Any]]
CallError = Callable[..., Awaitable[LlmspellError]]


@pytest.fixture(scope="session")
def kernel() -> Kernel:
    # env={}: load every entry point, whatever LLMSPELL_* the developer has set
    return Kernel.load(env={})


@pytest.fixture
def call(kernel: Kernel) -> Call:
    """``await call(name, args, policy=None)``: the tool's result under ``policy`` (default: the
    empty policy, which grants nothing)."""

    async def run_tool(name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
        async with SpellRun.open(kernel, policy=policy or SecurityPolicy()) as run:
            return await run.call_tool(name, args)

    return run_tool


@pytest.fixture
def call_error(call: Call) -> CallError:
    """``await call_error(name, args)``: the LlmspellError the call raises."""

    async def run_tool(name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
        with pytest.raises(LlmspellError) as info:
            await call(name, args, policy)
        return info.value

    return run_tool


@pytest.fixture
def invalid(call_error: CallError) -> CallError:
    """``await invalid(name, args, argument, *fragments)``: the call fails with invalid_args
    whose message names ``argument`` (and contains every fragment); returns the error."""

    async def check(name: str, args: Any, argument: str, *fragments: str) -> LlmspellError:
        err = await call_error(name, args)
        assert err.code == "invalid_args", err.message
        assert err.message.startswith(f"tool {name!r}: argument {argument!r}: "), err.message
        assert err.details["tool"] == name
        assert err.details["argument"] == argument
        for fragment in fragments:
            assert fragment in err.message, err.message
        return err

    return check
