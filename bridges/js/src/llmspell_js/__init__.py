"""llmspell's JavaScript engine: spells are ES modules run on QuickJS (``quickjs-ng``)."""

from llmspell_js.engine import JsEngine

__all__ = ["JsEngine"]
