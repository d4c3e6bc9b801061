local h = Task.spawn(function()
  Task.sleep(5)
  Tool.call("record", {value = "task went on"})
  return "finished"
end)
Task.sleep(0.05)
Task.cancel(h)
local ok, err = pcall(h.wait, h)
Tool.call("record", {value = "caught " .. err.code})
return err.code
