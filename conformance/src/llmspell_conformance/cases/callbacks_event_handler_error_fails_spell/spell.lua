Event.on("boom", function(ev) Tool.call("fail", {code = "permission_denied"}) end)
Event.emit("boom", {})
Tool.call("wait", {seconds = 5, label = "w"})
Tool.call("record", {value = "after"})
return "done"
