local flow = Workflow.sequential{name = "pipeline", steps = {
  function(x) return "A(" .. x .. ")" end,
  {name = "a", tool = "record", input_arg = "value"},
  {name = "noise", fn = function(x) return "ignored" end},
  {name = "b", fn = function(x) return "B(" .. x .. ")" end, input = "original"},
  {name = "both", fn = function(x) return x end,
   input = function(v) return v.input .. "|" .. v.outputs.a .. "|" .. v.outputs.a .. "+" .. v.previous end},
}}
local pick = Workflow.sequential{name = "pick", steps = {
  {name = "first", fn = function(x) return "first(" .. x .. ")" end},
  function(x) return "other" end,
  {fn = function(x) return x end, input = {step = "first"}},
}}
assert(pick:run("y").data == "first(y)")
return flow:run("topic").data
