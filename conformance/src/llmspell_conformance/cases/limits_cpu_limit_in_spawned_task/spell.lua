local task = Task.spawn(function()
  local n = 0
  while true do n = n + 1 end
end)
pcall(function() task:wait() end)
Tool.call("record", {value = "main went on"})
