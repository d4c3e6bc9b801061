local expert = Agent.create{name = "expert", model = "scripted/x"}
expert:as_tool{name = "ask_expert", description = "Ask the expert."}
local boss = Agent.create{name = "boss", model = "scripted/x", tools = {"ask_expert"}}
local result = boss:run("delegate")
return {result.text, result.tool_calls[1].name, result.tool_calls[1].result}
