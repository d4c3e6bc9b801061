local long = Task.spawn(function() Task.sleep(0.2) Tool.call("record", {value = "long"}) end)
local short = Task.spawn(function() Task.sleep(0.05) Tool.call("record", {value = "short"}) end)
long:wait()
short:wait()
Task.sleep(0.1)
Task.sleep(0.15)
Tool.call("record", {value = "after 0.1 + 0.15"})
return "ok"
