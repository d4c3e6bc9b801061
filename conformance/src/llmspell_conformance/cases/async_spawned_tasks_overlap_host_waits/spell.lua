local a = Task.spawn(function() return Tool.call("wait", {seconds = 0.5, label = "a", value = "a"}) end)
local b = Task.spawn(function() return Tool.call("wait", {seconds = 0.5, label = "b", value = "b"}) end)
return {a:wait(), b:wait()}
