local flow = Workflow.parallel{name = "fan", branches = {
  bad = {fn = function(x)
    Task.sleep(0.05)
    Tool.call("fail", {code = "permission_denied"})
  end},
  slow = function(x)
    local ok = pcall(function() Tool.call("wait", {seconds = 5, label = "slow"}) end)
    Tool.call("record", {value = "slow caught: " .. tostring(ok)})
    return "slow done"
  end,
}}
local ok, err = pcall(function() return flow:run("x") end)
Task.sleep(0.1)
return err.code
