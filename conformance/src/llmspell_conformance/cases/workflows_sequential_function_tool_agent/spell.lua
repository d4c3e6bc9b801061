local agent = Agent.create{name = "agent", model = "scripted/x"}
local seen = nil
local flow = Workflow.sequential{name = "pipeline", steps = {
  function(input) return Tool.call("record", {value = input}) end,
  {tool = "record", args = {value = "fixed"}},
  function(input) seen = Tool.call("record", {value = input .. "!"}) return seen end,
  agent,
}}
local result = flow:run("go")
return {result.data, result.agents, seen}
