"""The plugin registers the engine; the kernel finds it for .js and .mjs files."""

from __future__ import annotations

from importlib.metadata import entry_points

import llmspell_js.plugin as js_plugin
from llmspell.engines import Engine, engine_for
from llmspell.testing import make_kernel
from llmspell_js import JsEngine


def test_entry_point_is_declared():
    eps = {ep.name: ep.value for ep in entry_points(group="llmspell")}
    assert eps.get("js") == "llmspell_js.plugin"


def test_registers_the_js_engine():
    kernel = make_kernel(plugins=[("js", js_plugin)])
    engine = kernel.engines.get("js")
    assert isinstance(engine.load(), JsEngine) and isinstance(engine, Engine)
    assert engine.extensions == (".js", ".mjs")
    assert engine_for(kernel.engines, "spell.mjs") is engine
    assert engine_for(kernel.engines, "dir/Spell.JS") is engine


async def test_mjs_spell_runs(js):
    out = await js("export default import.meta !== undefined;", filename="spell.mjs")
    assert out.result is True
