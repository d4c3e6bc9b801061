local function waiting(label, seconds)
  return function(x) return Tool.call("wait", {seconds = seconds, label = label, value = label .. " done"}) end
end
local flow = Workflow.parallel{name = "fan", on_error = "continue", branches = {
  a = waiting("a", 0.2),
  b = waiting("b", 0.2),
  slow = {fn = waiting("slow", 5), timeout = 0.3},
}}
local data = flow:run("x").data
return {a = data.a, b = data.b, slow = data.slow.error.code}
