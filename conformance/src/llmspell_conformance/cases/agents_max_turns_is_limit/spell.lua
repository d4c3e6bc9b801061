Tool.define{name = "again", description = "Once more.", run = function(args)
  return Tool.call("record", {value = "turn"})
end}
local agent = Agent.create{name = "looper", model = "scripted/x", tools = {"again"}, max_turns = 2}
local ok, err = pcall(function() return agent:run("go") end)
return err.code
