"""pytest fixtures for llmspell, registered through the ``pytest11`` entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.testing import ScriptedProvider, make_kernel


@pytest.fixture
def scripted_provider() -> ScriptedProvider:
    """A fresh :class:`ScriptedProvider` named ``scripted``; add replies with ``.add(...)``."""
    return ScriptedProvider()


@pytest.fixture
def llmspell_kernel(scripted_provider: ScriptedProvider) -> Kernel:
    """A kernel without entry-point plugins whose ``scripted`` provider is
    ``scripted_provider``; register plugins with ``kernel.register_plugin(obj, name)``."""
    return make_kernel(provider=scripted_provider)


@pytest.fixture
async def spell_run(llmspell_kernel: Kernel) -> AsyncIterator[SpellRun]:
    """An open :class:`SpellRun` on ``llmspell_kernel`` with in-memory state (needs pytest-trio)."""
    async with SpellRun.open(llmspell_kernel, name="<test>") as run:
        yield run
