Task.spawn(function()
  Task.sleep(0.01)
  Tool.call("fail", {message = "the task broke"})
end)
Tool.call("record", {value = "main done"})
return "unreachable result"
