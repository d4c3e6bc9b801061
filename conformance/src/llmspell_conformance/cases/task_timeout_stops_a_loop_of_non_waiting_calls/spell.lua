Task.spawn(function() Task.sleep(0.05) Tool.call("record", {value = "other task ran"}) end)
local ok, err = pcall(Task.timeout, 0.2, function()
  while true do State.get("k", "spell") end
end)
return err.code
