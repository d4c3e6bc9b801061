local doubling = Workflow.loop{
  name = "doubling",
  body = function(n) return Tool.call("record", {value = n * 2}) end,
  ["until"] = function(n) return n >= 20 end,
}
local counting = Workflow.loop{
  name = "counting",
  body = function(n) return Tool.call("record", {value = n + 1}) end,
  ["until"] = function(n) return false end,
  max_iterations = 3,
}
return {doubling:run(3).data, counting:run(1).data}
