Tool.define{name = "spin", description = "s", run = function(args)
  local n = 0
  while true do n = n + 1 end
end}
local agent = Agent.create{name = "a", model = "scripted/x", tools = {"spin"}}
local ok, err = pcall(function() return agent:run("go") end)
Tool.call("record", {value = "after"})
