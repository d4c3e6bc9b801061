"""Entry point of the ``js`` plugin: registers the JavaScript engine as ``js``.

Declared in the distribution's ``pyproject.toml``::

    [project.entry-points.llmspell]
    js = "llmspell_js.plugin"
"""

from __future__ import annotations

from typing import Any

from llmspell.engines import LazyEngine
from llmspell.lifecycle import hookimpl


@hookimpl
def llmspell_register_engines(registry: Any) -> None:
    """Register the QuickJS engine under ``js`` for ``.js`` and ``.mjs`` files."""
    registry.add("js", LazyEngine("js", (".js", ".mjs"), "llmspell_js.engine:JsEngine"))
