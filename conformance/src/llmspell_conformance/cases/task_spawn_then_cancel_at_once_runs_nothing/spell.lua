local ran = 0
local h = Task.spawn(function()
  ran = ran + 1
  Tool.call("record", {value = "task started"})
end)
h:cancel()
Tool.call("record", {value = "main"})
local ok, err = pcall(h.wait, h)
return {err.code, ran}
