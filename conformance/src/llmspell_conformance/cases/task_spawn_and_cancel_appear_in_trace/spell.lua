local h = Task.spawn(function() Task.sleep(5) end)
h:cancel()
return Tool.call("record", {value = "done"})
