"""Helpers for the Lua engine tests: run a spell on a kernel with the Lua engine and a few
tools, capturing ``print`` output. (A uniquely named module, not ``conftest``, so that test
modules and hypothesis tests can import it.)"""

from __future__ import annotations

from typing import Any

import attrs
import trio

from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.scripting.session import ScriptSession
from llmspell.security import Limits, SecurityPolicy
from llmspell.testing import ScriptedProvider, make_kernel
from llmspell.tools import Tool
from llmspell_lua import plugin as lua_plugin
from llmspell_lua.bridge import LuaEngine


@attrs.define
class Recorder:
    """A ``record`` tool that remembers its calls; ``slow`` sleeps ``seconds`` first."""

    calls: list[Any] = attrs.field(factory=list)

    def tools(self) -> list[Tool]:
        async def record(args: dict[str, Any], ctx: Any) -> Any:
            self.calls.append(args.get("value"))
            return args.get("value")

        async def slow(args: dict[str, Any], ctx: Any) -> Any:
            await trio.sleep(float(args.get("seconds", 0)))
            self.calls.append(("slow-done", args.get("seconds")))
            return args.get("seconds")

        async def fail(args: dict[str, Any], ctx: Any) -> Any:
            raise ValueError("the tool broke")

        async def add(args: dict[str, Any], ctx: Any) -> Any:
            return args["a"] + args["b"]

        return [
            Tool(name="record", description="Record a value.", run=record),
            Tool(name="slow", description="Sleep, then return the seconds.", run=slow),
            Tool(name="fail", description="Always fails.", run=fail, category="test"),
            Tool(
                name="add",
                description="Add a and b.",
                category="math",
                run=add,
                parameters={
                    "type": "object",
                    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                    "required": ["a", "b"],
                },
            ),
        ]


def lua_kernel(
    provider: ScriptedProvider | None = None, recorder: Recorder | None = None
) -> Kernel:
    kernel = make_kernel(plugins=[("lua", lua_plugin)], provider=provider)
    for tool in (recorder or Recorder()).tools():
        kernel.tools.register(tool)
    return kernel


def policy(**limits: Any) -> SecurityPolicy:
    return SecurityPolicy(limits=Limits(**limits))


@attrs.define
class Spell:
    """Runs Lua spells on one kernel; ``output`` collects printed lines."""

    kernel: Kernel
    recorder: Recorder
    provider: ScriptedProvider
    output: list[str] = attrs.field(factory=list)

    async def run(
        self,
        source: str,
        *,
        filename: str = "spell.lua",
        args: Any = None,
        policy: SecurityPolicy | None = None,
    ) -> Any:
        async with SpellRun.open(self.kernel, name=filename, args=args, policy=policy) as run:
            session = ScriptSession(run, filename, output=self.output.append)
            run.result = await LuaEngine().run_session(source, session)
        return run.result


def new_spell() -> Spell:
    """A :class:`Spell` on a fresh kernel with a fresh scripted provider and recorder."""
    recorder = Recorder()
    provider = ScriptedProvider()
    return Spell(lua_kernel(provider, recorder), recorder, provider)
