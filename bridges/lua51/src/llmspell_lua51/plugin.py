"""Entry point of the ``lua51`` engine plugin (``[project.entry-points.llmspell] lua51 = ...``)."""

from __future__ import annotations

from typing import Any

from llmspell.engines import LazyEngine
from llmspell.lifecycle import hookimpl


@hookimpl
def llmspell_register_engines(registry: Any) -> None:
    """Register the ``lua51`` engine. It lists ``.lua`` among its extensions (the conformance
    runner picks a case's spell by extension) but is not meant to be the default for ``.lua``
    files: ``llmspell.engines.engine_for`` tries engines in name order, so ``lua`` wins whenever
    it is installed (it is a dependency of this package). Run a file on this engine with
    ``--engine lua51``."""
    registry.add(
        "lua51", LazyEngine("lua51", (".lua",), "llmspell_lua51.bridge:LuaJITEngine")
    )
