Hook.on("before_workflow_step", function(ctx)
  Tool.call("record", {value = ctx.name .. " " .. ctx.input})
  if ctx.name == "flow/step2" then return {action = "modify", input = ctx.input .. "!"} end
end)
local flow = Workflow.sequential{name = "flow", steps = {
  function(s) return "A(" .. s .. ")" end,
  function(s) return "B(" .. s .. ")" end,
}}
return flow:run("x").data
