"""Fixtures of the Lua engine tests."""

from __future__ import annotations

import pytest
from lua_spell_testing import Spell, new_spell


@pytest.fixture
def spell() -> Spell:
    """Runs Lua spells on a kernel with the Lua engine, test tools and a scripted provider."""
    return new_spell()
