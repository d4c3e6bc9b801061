local flow = Workflow.parallel{name = "fan", fail_fast = false, branches = {
  bad = function(x) return Tool.call("fail", {code = "timeout"}) end,
  ok = function(x) return Tool.call("wait", {seconds = 0.05, label = "ok", value = "done"}) end,
}}
local data = flow:run("x").data
return {data.bad.error.code, data.ok}
