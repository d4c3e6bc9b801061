-- agent_tools.lua: an agent that uses a tool written in Lua.
--   llmspell run examples/agent_tools.lua -- --city Paris
Tool.define{
  name = "weather",
  description = "The current weather of a city (canned data for this example).",
  parameters = {
    type = "object",
    properties = {city = {type = "string", description = "City name"}},
    required = {"city"},
  },
  run = function(a)
    local canned = {Paris = "sunny, 21 C", Oslo = "snow, -3 C"}
    return {city = a.city, weather = canned[a.city] or "unknown"}
  end,
}

local agent = Agent.create{
  name = "forecaster",
  instructions = "Answer with the weather tool. Reply in one sentence.",
  tools = {"weather"},
}
local result = agent:run("What is the weather in " .. (args.city or "Paris") .. "?")
print(result.text)
return {tool_calls = #result.tool_calls}
