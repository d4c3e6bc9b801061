local task = Task.spawn(function(label)
  Tool.call("fail", {code = "invalid_value", message = "bad " .. label})
end, "input")
local ok, err = pcall(task.wait, task)
Tool.call("record", {value = {err.code, err.message:find("bad input", 1, true) ~= nil, err.details.tool}})
return "survived"
