local ok, err = pcall(Task.timeout, 0.05, function()
  local ok2 = pcall(Tool.call, "wait", {seconds = 5, label = "slow"})
  Tool.call("record", {value = "after the wait"})  -- must never run
end)
return err.code
