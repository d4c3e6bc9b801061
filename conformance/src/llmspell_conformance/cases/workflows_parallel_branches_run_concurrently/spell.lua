local flow = Workflow.parallel{name = "fan", branches = {
  left = function(x) return Tool.call("wait", {seconds = 0.3, label = "left", value = x .. "-left"}) end,
  right = function(x) return Tool.call("wait", {seconds = 0.3, label = "right", value = x .. "-right"}) end,
}}
return flow:run("x").data
