Tool.define{name = "flaky", description = "Always fails.", run = function(args)
  return Tool.call("fail", {code = "timeout", message = "too slow"})
end}
local agent = Agent.create{name = "retrier", model = "scripted/x", tools = {"flaky"}}
local result = agent:run("try it")
return {result.text, result.tool_calls[1].result.error.code}
