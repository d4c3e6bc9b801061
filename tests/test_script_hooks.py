"""Hooks registered from Lua and JavaScript fire on agent, model, tool and workflow operations,
and interleave with Python plugin hooks by priority (one chain per point)."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.lifecycle import HookContext, Modify, hookimpl
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel

POINTS = [
    "before_workflow", "before_workflow_step", "before_agent", "before_llm_call",
    "after_llm_call", "before_tool_call", "after_tool_call", "after_agent",
    "after_workflow_step", "after_workflow",
]

LUA = """
local seen = {}
for _, point in ipairs(POINTS) do
  Hook.on(point, function(ctx) seen[#seen + 1] = ctx.point .. " " .. ctx.name end)
end
Hook.on("before_tool_call", function(ctx)
  return {action = "modify", input = {text = ctx.input.text .. "+s10"}}
end, {priority = 10})
Hook.on("before_tool_call", function(ctx)
  return {action = "modify", input = {text = ctx.input.text .. "+s0"}}
end, {priority = 0})
local agent = Agent.create{name = "helper", model = "scripted/test", tools = {"echo"}}
local flow = Workflow.sequential{name = "flow", steps = {agent}}
local result = flow:run("go")
return {seen = seen, text = result.data}
"""

JS = """
const seen = [];
for (const point of POINTS) {
  await Hook.on(point, (ctx) => { seen.push(ctx.point + " " + ctx.name); });
}
await Hook.on("beforeToolCall",
  (ctx) => ({action: "modify", input: {text: ctx.input.text + "+s10"}}), {priority: 10});
await Hook.on("beforeToolCall",
  (ctx) => ({action: "modify", input: {text: ctx.input.text + "+s0"}}), {priority: 0});
const agent = await Agent.create({name: "helper", model: "scripted/test", tools: ["echo"]});
const flow = await Workflow.sequential({name: "flow", steps: [agent]});
const result = await flow.run("go");
export default {seen, text: result.data};
"""


class PythonHook:
    """A plugin hook between the two script hooks (priority 5)."""

    @hookimpl(priority=5)
    def llmspell_before_tool_call(self, ctx: HookContext) -> Modify:
        return Modify({"text": ctx.input["text"] + "+py5"})


@pytest.mark.parametrize("lang", ["lua", "js"])
async def test_script_hooks_fire_on_every_operation_in_priority_order(lang: str) -> None:
    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "echo", "arguments": {"text": "x"}}]),
        lambda request: "echoed " + str(request.messages[-1].content),
    ])
    kernel = make_kernel(entry_points=True, provider=provider,
                         plugins=[("python-hook", PythonHook())])
    points = "{" + ", ".join(f'"{p}"' for p in POINTS) + "}"
    source = (LUA.replace("POINTS", points, 1) if lang == "lua"
              else JS.replace("POINTS", "[" + points[1:-1] + "]", 1))
    async with SpellRun.open(kernel) as run:
        out: Any = await kernel.engines.get(lang).run(source, f"hooks.{lang}", run)
    # the tool ran with the input modified by script (10), Python (5), script (0), in that order
    assert out["text"] == 'echoed "x+s10+py5+s0"'  # the tool message holds JSON
    seen = out["seen"]
    for kind, name in [("workflow", "flow"), ("workflow_step", "flow/helper"),
                       ("agent", "helper"), ("llm_call", "scripted/test"),
                       ("tool_call", "echo")]:
        assert f"before_{kind} {name}" in seen, (kind, seen)
        assert f"after_{kind} {name}" in seen, (kind, seen)
    order = [s.split(" ")[0] for s in seen]
    assert order[:4] == ["before_workflow", "before_workflow_step", "before_agent",
                         "before_llm_call"]
    assert order[-3:] == ["after_agent", "after_workflow_step", "after_workflow"]
    assert order.count("before_llm_call") == 2  # the tool call, then the answer
