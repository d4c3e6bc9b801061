local order = {}
Event.on("tick", function(ev) Task.sleep(0.01 * (4 - ev.data.n)); order[#order + 1] = ev.data.n end)
for n = 1, 3 do Event.emit("tick", {n = n}) end
Tool.call("wait", {seconds = 0.2})
return order
