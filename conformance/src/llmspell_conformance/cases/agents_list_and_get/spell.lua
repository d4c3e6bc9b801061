Agent.create{name = "beta", model = "scripted/x"}
Agent.create{name = "alpha", model = "scripted/x"}
local names = Agent.list()
local b = Agent.get("beta")
local text = b:run("go").text
local ok, err = pcall(Agent.get, "gamma")
return {names, b.name, text, err.code}
