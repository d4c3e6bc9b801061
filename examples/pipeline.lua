-- pipeline.lua: a workflow of two agents and a script step, on whatever model is the default
-- (the embedded local model when nothing is configured).
--   llmspell run examples/pipeline.lua -- --city Oslo
local weather_calls = 0
Tool.define{
  name = "weather",
  description = "The current weather of a city (canned data for this example).",
  parameters = {
    type = "object",
    properties = {city = {type = "string", description = "City name"}},
    required = {"city"},
  },
  run = function(a)
    weather_calls = weather_calls + 1
    local canned = {Paris = "sunny, 21 C", Oslo = "snow, -3 C"}
    return {city = a.city, weather = canned[a.city] or "unknown"}
  end,
}

local reporter = Agent.create{
  name = "reporter",
  instructions = "Find the weather with the weather tool and state it in one sentence.",
  tools = {"weather"},
  temperature = 0,
}
local advisor = Agent.create{
  name = "advisor",
  instructions = "Answer in one short sentence: what should the user wear?",
  temperature = 0,
}
local checked = {}

local pipeline = Workflow.sequential{name = "trip", steps = {
  reporter,
  function(report)  -- a script step between the two agents
    checked.report = report
    return "The weather report says: " .. report .. " What should I wear?"
  end,
  advisor,
}}

local city = args.city or "Oslo"
local result = pipeline:run("What is the weather in " .. city .. "?")
print("report: " .. checked.report)
print("advice: " .. result.text)
return {agents = result.agents, weather_calls = weather_calls}
