local doubling = Workflow.loop{
  name = "doubling",
  body = function(n) return Tool.call("record", {value = n * 2}) end,
  ["while"] = function(n) return n < 10 end,
}
local outer = Workflow.sequential{name = "outer", steps = {
  doubling,
  function(n) return "final:" .. n end,
}}
return outer:run(1).data
