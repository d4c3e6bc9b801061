Tool.define{name = "launch", description = "Launch (records it).", run = function(args)
  return Tool.call("record", {value = "launched"})
end}
Hook.on("before_tool_call", function(ctx)
  if ctx.name == "launch" then return {action = "cancel", reason = "no launches"} end
end)
local agent = Agent.create{name = "pilot", model = "scripted/x", tools = {"launch"}}
local result = agent:run("launch it")
return {result.text, result.tool_calls[1].result.error.code}
