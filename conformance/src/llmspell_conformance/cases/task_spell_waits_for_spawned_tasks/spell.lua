Task.spawn(function()
  Task.sleep(0.05)
  Tool.call("wait", {seconds = 0.1, label = "late"})
  Tool.call("record", {value = "task end"})
end)
Tool.call("record", {value = "main end"})
return "main result"
