"""Fixtures of the lua51 engine tests."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import Limits, SecurityPolicy
from llmspell.testing import make_kernel
from llmspell_lua51 import plugin
from llmspell_lua51.bridge import LuaJITEngine


async def run_spell(
    source: str, *, kernel: Kernel | None = None, engine: Any = None, **limits: Any
) -> Any:
    """Run ``source`` on the lua51 engine (or ``engine``) with these limits (others default)."""
    kernel = kernel or make_kernel(plugins=[("lua51", plugin)])
    policy = SecurityPolicy(limits=Limits(**limits))
    async with SpellRun.open(kernel, name="spell.lua", policy=policy) as run:
        run.result = await (engine or LuaJITEngine()).run(source, "spell.lua", run)
    return run.result


@pytest.fixture
def spell() -> Any:
    return run_spell
