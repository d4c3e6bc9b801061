Tool.define{
  name = "slow",
  description = "Wait 0.3 s and return the label.",
  parameters = {type = "object", properties = {label = {type = "string"}}, required = {"label"}},
  run = function(args) return Tool.call("wait", {seconds = 0.3, label = args.label, value = args.label}) end,
}
local agent = Agent.create{name = "juggler", model = "scripted/x", tools = {"slow"}}
local result = agent:run("do both")
return {result.text, result.tool_calls[1].result, result.tool_calls[2].result}
