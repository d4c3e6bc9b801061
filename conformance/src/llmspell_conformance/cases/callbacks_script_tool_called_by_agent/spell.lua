Tool.define{
  name = "mytool",
  description = "Record x and add ten.",
  parameters = {type = "object", properties = {x = {type = "integer"}}, required = {"x"}},
  run = function(args) return Tool.call("record", {value = args.x}) + 10 end,
}
local agent = Agent.create{name = "caller", model = "scripted/x", tools = {"mytool"}}
local result = agent:run("use the tool")
local call = result.tool_calls[1]
return {text = result.text, calls = #result.tool_calls, name = call.name, result = call.result}
