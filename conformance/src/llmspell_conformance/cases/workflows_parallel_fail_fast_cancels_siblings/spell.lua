local flow = Workflow.parallel{name = "fan", branches = {
  bad = function(x)
    Task.sleep(0.05)
    return Tool.call("fail", {code = "permission_denied"})
  end,
  slow = function(x)
    Tool.call("wait", {seconds = 5, label = "slow"})
    Tool.call("record", {value = "slow finished"})
  end,
}}
local ok, err = pcall(function() return flow:run("x") end)
return err.code
