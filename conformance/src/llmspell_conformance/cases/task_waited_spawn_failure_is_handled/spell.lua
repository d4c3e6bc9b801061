local h = Task.spawn(function()
  Tool.call("wait", {seconds = 0.05, label = "t"})
  Tool.call("fail", {code = "permission_denied", message = "denied on purpose"})
end)
local ok, err = pcall(h.wait, h)
Tool.call("record", {value = "handled " .. err.code})
return {err.code, err.details.tool}
