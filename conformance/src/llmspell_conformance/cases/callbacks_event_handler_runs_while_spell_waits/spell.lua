local seen = 0
Event.on("ping", function(event) seen = Tool.call("record", {value = event.data.n}) end)
Task.spawn(function()
  Task.sleep(0.05)
  Event.emit("ping", {n = 5})
end)
Tool.call("wait", {seconds = 0.3, label = "main"})
return seen
