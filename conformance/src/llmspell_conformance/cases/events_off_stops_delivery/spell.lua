local sub = Event.on("news", function(event) Tool.call("record", {value = event.data}) end)
local other = Event.on("news", function(event) Tool.call("record", {value = "other " .. event.data}) end)
Event.emit("news", "first")
Event.off(sub)
Event.emit("news", "second")
other:off()
Event.emit("news", "third")
return "done"
