local h = Task.spawn(function()
  Task.sleep(0.05)
  return Tool.call("wait", {seconds = 0.02, label = "job", value = {n = 1, list = {1, 2}}})
end)
Tool.call("record", {value = "spawned"})
local handle = type(h) == "table" and type(h.wait) == "function" and type(h.cancel) == "function"
return {handle = handle, value = h:wait()}
